/**
 * strata-lint: ESLint's `Linter` over a tree's JavaScript, each file's messages kept in Strata's L3.
 * A result's key is the file's content and its imports' export signatures, so after an edit that
 * changes what a module exports, its importers are linted again — `strata/import-exists` reads
 * those exports — while `eslint --cache` re-lints only the edited file and keeps the importers'
 * stale results. Output: one line per message, sorted; exit status 1 when there are errors.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Linter } from 'eslint';
import { createEngine } from '../../engine/index.js';
import { importExistsRule } from './import-exists-rule.js';
import { LINT_RULES, lintConfig, sourceTypeOf } from './lint-config.js';
import { StrataExports } from './strata-lookup.js';

/** A message as L3 keeps it (plain data). */
export interface LintMessage {
  readonly line: number;
  readonly column: number;
  readonly severity: number;
  readonly ruleId: string | null;
  readonly message: string;
}

export interface LintReport {
  readonly output: string;
  readonly exitCode: number;
  readonly files: number;
  /** Root-relative files linted this run (the rest came from L3). */
  readonly linted: string[];
}

const JS = /\.[cm]?js$/;

/** Every JavaScript file under `root`, skipping node_modules and dot-directories. */
export function javascriptFiles(root: string): string[] {
  const found: string[] = [];
  const visit = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) visit(full);
      else if (entry.isFile() && JS.test(entry.name)) found.push(full);
    }
  };
  visit(root);
  return found.sort();
}

export async function lint(root: string, options: { cacheDir?: string } = {}): Promise<LintReport> {
  const engine = createEngine({ root, ...(options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir }) });
  try {
    const linter = new Linter({ cwd: root });
    // Results of another ESLint or other rules are never reused.
    const version = createHash('sha256').update(JSON.stringify([linter.version, LINT_RULES, 1])).digest('base64url');
    const results = engine.results<LintMessage[]>({ id: 'strata-eslint', version });
    const exports = new StrataExports(engine);
    const files = javascriptFiles(root);
    const linted: string[] = [];
    const lines: string[] = [];
    let errors = 0;
    for (const file of files) {
      const messages = await results.compute(file, async ({ path: absolute }) => {
        linted.push(path.relative(root, absolute).split(path.sep).join('/'));
        const config = lintConfig(importExistsRule(await exports.lookupFor(absolute)), sourceTypeOf(absolute));
        const text = (await engine.content(absolute)).toString('utf8');
        return linter.verify(text, config, absolute).map(({ line, column, severity, ruleId, message }) => ({ line, column, severity, ruleId, message }));
      });
      for (const m of messages) {
        if (m.severity === 2) errors++;
        lines.push(`${path.relative(root, file)}:${m.line}:${m.column}: ${m.severity === 2 ? 'error' : 'warning'} ${m.message} (${m.ruleId ?? 'parse'})`);
      }
    }
    return { output: lines.length === 0 ? '' : `${lines.join('\n')}\n`, exitCode: errors > 0 ? 1 : 0, files: files.length, linted };
  } finally {
    await engine.close();
  }
}

/* The command: strata-lint [DIR] [--cache-dir DIR] */
if (require.main === module) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--cache-dir');
  const cacheDir = at === -1 ? undefined : args[at + 1];
  const dir = args.find((arg, index) => !arg.startsWith('--') && (at === -1 || index !== at + 1)) ?? '.';
  lint(path.resolve(dir), cacheDir === undefined ? {} : { cacheDir }).then(
    (report) => {
      process.stdout.write(report.output);
      process.stderr.write(`strata-lint: ${report.files} files, ${report.linted.length} linted, ${report.files - report.linted.length} from L3\n`);
      process.exitCode = report.exitCode;
    },
    (error: unknown) => {
      process.stderr.write(`strata-lint: ${(error as Error).message}\n`);
      process.exitCode = 2;
    },
  );
}
