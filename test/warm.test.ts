import * as fs from 'node:fs';
import * as path from 'node:path';
import { createEngine, type Engine, type EngineOptions } from '../engine/engine.js';
import type { WarmReport } from '../engine/warming/warm-report.js';
import { makeTree, type TempTree } from './helpers/temp-tree.js';
import { filesAddUp } from './helpers/warm-report.js';

const FIXTURE = {
  'packages/app/src/index.ts': "import { util } from '../../lib/src/util';\nimport type { T } from './types';\nexport const main = (): T => util(1);\n",
  'packages/app/src/types.ts': 'export type T = number;\n',
  'packages/app/src/view.tsx': "import React from 'react';\nexport const View = () => <div className=\"x\">{1}</div>;\n",
  'packages/lib/src/util.js': "const fs = require('fs');\nexports.util = (x) => x + 1;\n",
  'packages/lib/src/broken.ts': 'export const = ;\nfunction (\n',
  'packages/lib/src/binary.ts': Buffer.from([0x00, 0x01, 0x02, 0x03]),
  'packages/lib/src/latin1.ts': Buffer.from('const s = "caf\xe9";\n', 'latin1'),
  'packages/lib/README.md': '# not source\n',
};

function invariantHolds(report: WarmReport): boolean {
  return filesAddUp(report) && report.fromCache === report.fromMemory + report.fromDisk;
}

describe('Engine.warm', () => {
  let tree: TempTree;
  let engine: Engine;
  const open = (options: EngineOptions = {}): Engine => (engine = createEngine({ root: tree.root, workers: 2, ...options }, { env: {}, readConfigFile: false }));

  beforeEach(() => {
    tree = makeTree(FIXTURE);
  });
  afterEach(async () => {
    await engine?.close();
    tree.remove();
  });

  it('parses every source file through the real pool and reports the contract counts', async () => {
    const report = await open().warm();
    expect(report.files).toBe(7);
    expect(report.parsed).toBe(5);
    expect(report.parseErrors).toBe(1);
    expect(report.skipped).toEqual([{ path: 'packages/lib/src/binary.ts', reason: 'binary' }]);
    expect(report.failed).toEqual([expect.objectContaining({ path: 'packages/lib/src/latin1.ts', code: 'EINVALIDUTF8' })]);
    expect(report.workers).toBe(2);
    expect(report.stoppedBy).toBeNull();
    expect(invariantHolds(report)).toBe(true);
    expect(report.levels.ast.entries).toBe(5);
    expect(report.levels.content.entries).toBe(5);
    expect(engine.stats().pool.started).toBe(true);
  });

  it('answers a second warm from memory without parsing', async () => {
    open();
    await engine.warm();
    const second = await engine.warm();
    expect(second.parsed).toBe(0);
    expect(second.fromMemory).toBe(5);
    expect(invariantHolds(second)).toBe(true);
  });

  it('parses the same way in the coordinator thread', async () => {
    const report = await open({ executor: 'in-thread' }).warm();
    expect(report).toMatchObject({ files: 7, parsed: 5, parseErrors: 1, workers: 0 });
    const ast = await engine.ast('packages/app/src/index.ts');
    expect(ast.imports.map((i) => i.specifier)).toEqual(['../../lib/src/util', './types']);
  });

  it('fails only the files of a worker that dies, and the pool carries on', async () => {
    tree.write('packages/lib/src/crash-me.ts', 'export const boom = 1;\n');
    const workerFile = path.join(__dirname, 'fixtures', 'crashing-worker.js');
    const report = await open({ workerFile }).warm();
    expect(report.failed).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: 'packages/lib/src/crash-me.ts', code: 'EWORKER' })]),
    );
    expect(report.parsed).toBe(5);
    expect(invariantHolds(report)).toBe(true);
    expect(engine.stats().pool.retriedFiles).toBeGreaterThan(0);
    const ast = await engine.ast('packages/app/src/types.ts');
    expect(ast.ast.nodeCount).toBeGreaterThan(1);
  });

  it('serves ASTs, imports and real SourceFiles after a warm', async () => {
    open();
    await engine.warm();
    const result = await engine.ast(path.join(tree.root, 'packages/app/src/index.ts'));
    expect(result.path).toBe(path.join(tree.root, 'packages/app/src/index.ts'));
    expect(result.imports).toEqual([
      { specifier: '../../lib/src/util', kind: 'import', typeOnly: false },
      { specifier: './types', kind: 'import', typeOnly: true },
    ]);
    expect(result.diagnostics).toBe(0);
    expect(engine.stats().levels.ast.hits).toBeGreaterThan(0);
    const sourceFile = await engine.sourceFile('packages/app/src/view.tsx');
    expect(sourceFile.statements.length).toBe(2);
    expect(sourceFile.statements[0]!.parent).toBe(sourceFile);
  });

  it('shares one parse between concurrent callers of the same file', async () => {
    open({ executor: 'in-thread', persist: false });
    const answers = await Promise.all([1, 2, 3, 4].map(() => engine.ast('packages/app/src/index.ts')));
    expect(new Set(answers.map((answer) => answer.imports.length))).toEqual(new Set([2]));
    expect(engine.stats().pool.tasks).toBe(1);
  });

  it('re-parses a file edited after the warm, never answering stale', async () => {
    open();
    await engine.warm();
    fs.writeFileSync(path.join(tree.root, 'packages/app/src/types.ts'), "import './extra';\nexport type T = string;\n");
    const result = await engine.ast('packages/app/src/types.ts');
    expect(result.imports).toEqual([{ specifier: './extra', kind: 'import', typeOnly: false }]);
    expect(result.text).toContain('string');
  });

  it('gives content copies and pinned views, and refuses paths outside the root', async () => {
    open();
    const copy = await engine.content('packages/app/src/types.ts');
    expect(copy.toString()).toBe('export type T = number;\n');
    const view = await engine.contentView('packages/app/src/types.ts');
    expect(Buffer.from(view.bytes).toString()).toBe('export type T = number;\n');
    view.release();
    await expect(engine.content('../outside.ts')).rejects.toMatchObject({ code: 'ENOTINROOT' });
    await expect(engine.content('packages/lib/src/binary.ts')).rejects.toMatchObject({ code: 'ENOTCACHED' });
    await expect(engine.content('packages/app/src/missing.ts')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('keeps every level within its budget on a tree larger than the budgets', async () => {
    for (let i = 0; i < 300; i++) tree.write(`gen/file-${i}.ts`, `export const v${i} = [${'1, '.repeat(300)}];\n`);
    const report = await open({ contentBudget: 64 * 1024, astBudget: 256 * 1024 }).warm();
    expect(report.parsed).toBe(305);
    expect(report.levels.content.bytes).toBeLessThanOrEqual(64 * 1024);
    expect(report.levels.ast.bytes).toBeLessThanOrEqual(256 * 1024);
    expect(report.levels.content.evictions).toBeGreaterThan(0);
    expect(report.levels.ast.evictions).toBeGreaterThan(0);
    expect(engine.stats().content.reservedBytes).toBeLessThanOrEqual(64 * 1024);
  });

  it('stops at its time limit and says so, keeping what finished', async () => {
    for (let i = 0; i < 200; i++) tree.write(`gen/file-${i}.ts`, `export const v${i} = ${i};\n`);
    const report = await open({ warmTimeLimit: 1 }).warm();
    expect(report.stoppedBy).toBe('time-limit');
    expect(report.files + report.remaining).toBeGreaterThan(0);
    expect(invariantHolds(report)).toBe(true);
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const report = await open().warm({ signal: controller.signal });
    expect(report.stoppedBy).toBe('interrupted');
    expect(invariantHolds(report)).toBe(true);
  });

  it('loads neither the parser nor the pool when there is nothing to parse', async () => {
    const empty = makeTree({ 'notes.md': 'nothing here' });
    try {
      const local = createEngine({ root: empty.root }, { env: {}, readConfigFile: false });
      const report = await local.warm();
      expect(report.files).toBe(0);
      expect(local.stats().pool.started).toBe(false);
      await local.close();
    } finally {
      empty.remove();
    }
  });
});
