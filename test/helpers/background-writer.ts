/**
 * A writer process for the kill -9 test of background pack writes (persistence-background.test.ts):
 * edits the tree's files and remembers each new version with a pack write started in the background
 * for every entry, saving the index every few entries, until it is killed. Prints `saved` after its
 * first index save.
 *
 *   node dist/test/helpers/background-writer.js ROOT CACHE_DIR FILES
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AstPersistence } from '../../engine/ast/ast-persistence.js';
import { fingerprintOf } from '../../engine/content/fingerprint.js';
import { astKey } from '../../engine/ast/keys.js';
import { resolveOptions } from '../../engine/config/options.js';
import { xxh64 } from '../../native-bindings/hash.js';
import { encodeAstEntry } from '../../shared/ast-entry.js';
import { parseSource } from '../../workers/parse-source.js';

export const WRITER_KEY_PREFIX = 'background-writer';

/** The text of file `i` at `version` (large enough that an entry is compressed). */
export function writerSource(i: number, version: number): string {
  return `export const v${i} = [${'1, '.repeat(1500)}${version}];\n`;
}

async function run(root: string, cacheDir: string, files: number): Promise<void> {
  const options = resolveOptions({ root, cacheDir }, { env: {}, readConfigFile: false });
  const { persistence } = AstPersistence.open(options, WRITER_KEY_PREFIX, {}, { flushBytes: 1 });
  if (persistence === null) throw new Error('no store');
  for (let version = 1; ; version++) {
    for (let i = 0; i < files; i++) {
      const file = `src/f${i}.ts`;
      const text = writerSource(i, version);
      fs.writeFileSync(path.join(root, file), text);
      const hash = xxh64(Buffer.from(text));
      const key = astKey(WRITER_KEY_PREFIX, 'ts', hash);
      const stats = fs.statSync(path.join(root, file), { bigint: true });
      persistence.remember(file, fingerprintOf(stats), hash, key, encodeAstEntry(key, parseSource(file, text), 'lz4-block-v1'));
      if (i % 5 === 4) {
        persistence.save(); // index saves while background writes are in flight
        if (version === 1 && i === 4) process.stdout.write('saved\n'); // the test kills from here on
      }
      await new Promise((resolve) => setImmediate(resolve)); // lets the pack writes progress
    }
  }
}

if (require.main === module) {
  const [root, cacheDir, files] = process.argv.slice(2);
  run(root as string, cacheDir as string, Number(files)).catch((error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  });
}
