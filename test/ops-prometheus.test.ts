import { register } from 'prom-client';
import { createEngine, type Engine } from '../engine/engine.js';
import { prometheusText, servePrometheus } from '../engine/ops/prometheus.js';
import { makeTree, type TempTree } from './helpers/temp-tree.js';
import { isolated } from './helpers/engines.js';

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*")*\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/;

/** name{labels} → value, failing on any line that is neither a comment nor a valid sample. */
function parseExposition(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const match = SAMPLE.exec(line);
    if (match === null) throw new Error(`not a sample line: ${JSON.stringify(line)}`);
    const value = Number(match[4]);
    expect(Number.isNaN(value) && match[4] !== 'NaN').toBe(false);
    samples.set(`${match[1]}${match[2] ?? ''}`, value);
  }
  return samples;
}

describe('prometheusText', () => {
  let tree: TempTree;
  let engine: Engine;
  beforeAll(async () => {
    tree = makeTree({ 'a.ts': 'export const a = 1;\n', 'b.ts': "import { a } from './a';\nexport const b = a;\n" });
    engine = createEngine({ root: tree.root, executor: 'in-thread', persist: false }, isolated);
    await engine.warm();
    await engine.content('a.ts');
  });
  afterAll(async () => {
    await engine.close();
    tree.remove();
  });

  it('prints a valid exposition with every level and the engine counters', async () => {
    const samples = parseExposition(await prometheusText(engine.stats(), engine.options));
    const stats = engine.stats();
    for (const level of ['content', 'ast', 'results', 'streams'] as const) {
      expect(samples.get(`strata_level_hits_total{level="${level}"}`)).toBe(stats.levels[level].hits);
      expect(samples.get(`strata_level_misses_total{level="${level}"}`)).toBe(stats.levels[level].misses);
      expect(samples.get(`strata_level_evictions_total{level="${level}"}`)).toBe(stats.levels[level].evictions);
      expect(samples.get(`strata_level_bytes{level="${level}"}`)).toBe(stats.levels[level].bytes);
      expect(samples.get(`strata_level_entries{level="${level}"}`)).toBe(stats.levels[level].entries);
    }
    expect(samples.get('strata_level_budget_bytes{level="content"}')).toBe(stats.content.budget);
    expect(samples.has('strata_pool_busy_milliseconds_total')).toBe(true);
    expect(samples.has('strata_disk_bytes')).toBe(true);
    expect(samples.get('strata_level_hits_total{level="content"}')).toBeGreaterThan(0);
  });

  it('declares a TYPE for every metric it prints', async () => {
    const text = await prometheusText(engine.stats(), engine.options);
    const typed = new Set([...text.matchAll(/^# TYPE (\S+) (counter|gauge)$/gm)].map((match) => match[1]));
    for (const name of parseExposition(text).keys()) expect(typed.has(name.replace(/\{.*$/, ''))).toBe(true);
  });

  it('never registers in the global prom-client registry', async () => {
    await prometheusText(engine.stats(), engine.options);
    expect(register.getSingleMetric('strata_level_hits_total')).toBeUndefined();
  });

  it('serves /metrics on loopback and answers 404 elsewhere', async () => {
    const server = await servePrometheus(engine);
    try {
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('no port');
      expect(address.address).toBe('127.0.0.1');
      const metrics = await fetch(`http://127.0.0.1:${address.port}/metrics`);
      expect(metrics.status).toBe(200);
      expect(parseExposition(await metrics.text()).has('strata_level_entries{level="ast"}')).toBe(true);
      expect((await fetch(`http://127.0.0.1:${address.port}/nope`)).status).toBe(404);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('refuses a host that is not loopback, naming the option', async () => {
    await expect(servePrometheus(engine, { host: '0.0.0.0' as '127.0.0.1' })).rejects.toMatchObject({ code: 'EINVALIDOPTION', path: 'host' });
  });
});
