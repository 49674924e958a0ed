import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createEngine } from '../engine/engine.js';
import { servePrometheus } from '../engine/ops/prometheus.js';
import { makeTree } from './helpers/temp-tree.js';

function get(port: number, path: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, type: String(response.headers['content-type']), body }));
    }).on('error', reject);
  });
}

describe('the loopback dashboard', () => {
  it('serves a page and the live stats it plots: hit rate per level, memory, alerts', async () => {
    const tree = makeTree({ 'a.ts': 'export const a = 1;\n', 'b.ts': 'export const b = 2;\n' });
    const engine = createEngine({ root: tree.root, executor: 'in-thread', persist: false }, { env: {}, readConfigFile: false });
    const server = await servePrometheus(engine);
    try {
      await engine.warm();
      await engine.warm();
      const port = (server.address() as AddressInfo).port;
      const page = await get(port, '/');
      expect(page.status).toBe(200);
      expect(page.type).toContain('text/html');
      expect(page.body).toContain('stats.json');
      const stats = JSON.parse((await get(port, '/stats.json')).body) as { rssBytes: number; levels: Record<string, { hits: number }>; metrics: { levels: Record<string, { hitRate: number | null }> }; alerts: unknown[] };
      expect(stats.rssBytes).toBeGreaterThan(0);
      expect(stats.levels.ast!.hits).toBe(2);
      expect(stats.metrics.levels.ast!.hitRate).toBeCloseTo(0.5);
      expect(Array.isArray(stats.alerts)).toBe(true);
    } finally {
      await new Promise((resolve) => server.close(resolve));
      await engine.close();
      tree.remove();
    }
  });
});
