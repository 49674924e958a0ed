/**
 * Dependents named from the first event (the graph is built when watching starts, updated from each
 * new parse) with early cutoff, and subscribeResults() delivering the dependents' recomputed results,
 * each saying which change it belongs to. Real chokidar in a child process, real files.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeTree, type TempTree } from './helpers/temp-tree.js';
import { WatchProcess } from './helpers/watch-process.js';

const RUNNER = path.join(__dirname, 'fixtures', 'dependents-runner.js');

interface Line {
  subscriber: number;
  event: string;
  path: string;
  invalidated?: string[];
  cause?: string;
  value?: number;
  runs?: number;
  revision: number;
}

/** Saved as editors do (write a temporary file, rename it over): one change event, no empty state. */
function save(root: string, relative: string, text: string): void {
  const file = path.join(root, relative);
  fs.writeFileSync(`${file}.tmp`, text);
  fs.renameSync(`${file}.tmp`, file);
}

describe('watching names dependents and recomputes their results', () => {
  let tree: TempTree;
  let watcher: WatchProcess;
  const lines = (): Line[] => watcher.lines as unknown as Line[];
  const changeOf = (file: string, from: number, subscriber = 0): Line | undefined => lines().slice(from).find((line) => line.subscriber === subscriber && line.path === file && line.invalidated !== undefined);

  beforeEach(() => {
    tree = makeTree({
      'src/util.ts': 'export const one = 1;\nconst helper = 2;\nexport const two = helper;\n',
      'src/a.ts': "import { one } from './util';\nimport { later } from './later';\nexport const a = one + later;\n",
      'src/b.ts': "import { two } from './util';\nexport const b = two;\n",
      'src/c.ts': "import { a } from './a';\nexport const c = a;\n",
      'src/alone.ts': 'export const alone = 0;\n',
    });
    watcher = new WatchProcess(RUNNER, [tree.root]);
  });
  afterEach(async () => {
    expect((await watcher.stop()).code).toBe(0);
    tree.remove();
  });

  it('names transitive dependents in the first event, cuts off when exports keep their signature, and follows adds and deletes', async () => {
    await watcher.waitFor(() => lines().some((line) => (line as unknown as { ready?: boolean }).ready === true), 'ready');

    // An export added: the file, its importers, their importer (breadth-first), nothing else.
    let from = lines().length;
    save(tree.root, 'src/util.ts', 'export const one = 1;\nconst helper = 2;\nexport const two = helper;\nexport const three = 3;\n');
    await watcher.waitFor(() => changeOf('src/util.ts', from) !== undefined, 'the export edit');
    expect(changeOf('src/util.ts', from)!.invalidated).toEqual(['src/util.ts', 'src/a.ts', 'src/b.ts', 'src/c.ts']);

    // Each invalidated file's result reaches both subscribers, computed once per file state, tagged with its cause.
    const resultsFor = (subscriber: number): Line[] => lines().slice(from).filter((line) => line.subscriber === subscriber && line.event === 'result' && line.cause === 'src/util.ts');
    await watcher.waitFor(() => resultsFor(0).length === 4 && resultsFor(1).length === 4, 'four results for each subscriber');
    for (const subscriber of [0, 1]) {
      expect(resultsFor(subscriber).map((line) => [line.path, line.value])).toEqual([['src/util.ts', 0], ['src/a.ts', 2], ['src/b.ts', 1], ['src/c.ts', 1]]);
    }
    expect(Math.max(...resultsFor(1).map((line) => line.runs!))).toBe(1);

    // A non-exported helper edited: the export signature holds, so the file alone.
    from = lines().length;
    save(tree.root, 'src/util.ts', 'export const one = 1;\nconst helper = 20;\nexport const two = helper;\nexport const three = 3;\n');
    await watcher.waitFor(() => changeOf('src/util.ts', from) !== undefined, 'the helper edit');
    expect(changeOf('src/util.ts', from)!.invalidated).toEqual(['src/util.ts']);

    // A file that an import named before it existed: its importer and theirs.
    from = lines().length;
    save(tree.root, 'src/later.ts', 'export const later = 5;\n');
    await watcher.waitFor(() => changeOf('src/later.ts', from) !== undefined, 'the add');
    expect(changeOf('src/later.ts', from)!.invalidated).toEqual(['src/later.ts', 'src/a.ts', 'src/c.ts']);

    // A deleted file: everything that reached it, and their results recomputed (the file itself has none).
    from = lines().length;
    fs.unlinkSync(path.join(tree.root, 'src/util.ts'));
    await watcher.waitFor(() => changeOf('src/util.ts', from) !== undefined, 'the delete');
    const unlink = changeOf('src/util.ts', from)!;
    expect(unlink.event).toBe('unlink');
    expect(unlink.invalidated).toEqual(['src/util.ts', 'src/a.ts', 'src/b.ts', 'src/c.ts']);
    await watcher.waitFor(() => lines().slice(from).filter((line) => line.subscriber === 0 && line.event === 'result' && line.cause === 'src/util.ts').length === 3, 'the dependents recomputed');
  });
});
