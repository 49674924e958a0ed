import * as path from 'node:path';
import { createEngine, type Engine } from '../engine/engine.js';
import { LEAN_AST_BUDGET_BYTES, UNCAPPED_YOUNG_GENERATION_MB } from '../engine/pool/parse-pool.js';
import { makeTree, type TempTree } from './helpers/temp-tree.js';

const WORKER_FILE = path.join(__dirname, 'fixtures', 'limits-reporting-worker.js');

/** The young generation a real pool worker ran with, as the worker itself reports it. */
async function workerYoungGenerationMb(root: string, options: { memoryLimit?: number; astBudget?: number } = {}): Promise<number> {
  let engine: Engine | null = null;
  try {
    engine = createEngine({ root, workers: 1, persist: false, workerFile: WORKER_FILE, ...options }, { env: {}, readConfigFile: false });
    const report = await engine.warm();
    const failure = report.failed.find((failed) => failed.path === 'src/report-limits.ts');
    if (failure === undefined) throw new Error(`no limits reported: ${JSON.stringify(report.failed)}`);
    return (JSON.parse(failure.message) as { maxYoungGenerationSizeMb: number }).maxYoungGenerationSizeMb;
  } finally {
    await engine?.close();
  }
}

describe('parse workers: V8 young generation', () => {
  let tree: TempTree;
  beforeAll(() => {
    tree = makeTree({ 'src/report-limits.ts': 'export const a = 1;\n', 'src/b.ts': 'export const b = 2;\n' });
  });
  afterAll(() => tree.remove());

  it('is enlarged with the profile’s budgets when no memory limit caps the workers (the parser’s garbage dies young)', async () => {
    expect(UNCAPPED_YOUNG_GENERATION_MB).toBeGreaterThan(48);
    expect(await workerYoungGenerationMb(tree.root)).toBe(UNCAPPED_YOUNG_GENERATION_MB);
  });

  it('stays V8’s default under a memory limit, which the memory model counts on', async () => {
    expect(await workerYoungGenerationMb(tree.root, { memoryLimit: 2048 })).toBe(48);
  });

  it('stays V8’s default when the L2 budget says the engine runs lean', async () => {
    expect(await workerYoungGenerationMb(tree.root, { astBudget: LEAN_AST_BUDGET_BYTES - 1 })).toBe(48);
    expect(await workerYoungGenerationMb(tree.root, { astBudget: LEAN_AST_BUDGET_BYTES })).toBe(UNCAPPED_YOUNG_GENERATION_MB);
  });
});
