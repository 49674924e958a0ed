/**
 * The Prometheus text exposition of an engine's stats (issue 6), with prom-client. Each call builds
 * a private {@link Registry} from one stats snapshot (never prom-client's global registry, which
 * the embedding process may own), so nothing is kept between scrapes and nothing costs anything
 * until someone scrapes.
 *
 * Metrics (`level` is content, ast, results or streams):
 * - `strata_level_hits_total`, `strata_level_misses_total`, `strata_level_evictions_total` {level}
 * - `strata_level_bytes`, `strata_level_entries` {level}
 * - `strata_level_hit_rate` {level} (only levels with accesses), `strata_combined_hit_rate`
 * - `strata_level_budget_bytes`, `strata_level_memory_use` {level} (content and ast)
 * - `strata_alert_firing` {level, metric}: 1 per alert firing now
 * - `strata_pool_workers`, `strata_pool_tasks_total`, `strata_pool_busy_milliseconds_total`,
 *   `strata_pool_retried_files_total`
 * - `strata_disk_bytes`, `strata_disk_indexed_files`, `strata_graph_nodes`, `strata_revision`
 * - `strata_sourcefile_hits_total`, `strata_sourcefile_misses_total`, `strata_sourcefile_evictions_total`,
 *   `strata_sourcefile_parses_total`, `strata_sourcefile_bytes`, `strata_sourcefile_entries`,
 *   `strata_sourcefile_budget_bytes` (the SourceFile tier, beside the levels)
 * - `strata_remote_up` (1 while the remote tier is on), `strata_remote_{hits,misses,rejected,errors,
 *   uploaded,skipped}_total`, `strata_remote_bytes_{in,out}_total` (only when a remote is configured)
 */
import * as http from 'node:http';
import { Counter, Gauge, Registry } from 'prom-client';
import { invalidOption } from '../../shared/errors.js';
import { DASHBOARD_HTML } from './dashboard-page.js';
import type { EngineStats } from './engine-stats.js';
import { DEFAULT_ALERT_THRESHOLDS, evaluateAlerts, LEVEL_NAMES, metricsReport, type AlertThresholds } from './metrics-report.js';

/** The content type of the text exposition format. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** A private registry holding one snapshot of `stats`. */
export function prometheusRegistry(stats: EngineStats, options: AlertThresholds = DEFAULT_ALERT_THRESHOLDS): Registry {
  const registry = new Registry();
  const registers = [registry];
  const counter = (name: string, help: string, labelNames: string[] = []): Counter<string> => new Counter({ name, help, labelNames, registers });
  const gauge = (name: string, help: string, labelNames: string[] = []): Gauge<string> => new Gauge({ name, help, labelNames, registers });

  const hits = counter('strata_level_hits_total', 'Lookups answered by the level', ['level']);
  const misses = counter('strata_level_misses_total', 'Lookups the level could not answer', ['level']);
  const evictions = counter('strata_level_evictions_total', 'Entries evicted from the level', ['level']);
  const bytes = gauge('strata_level_bytes', 'Bytes held by the level in memory', ['level']);
  const entries = gauge('strata_level_entries', 'Entries held by the level in memory', ['level']);
  const rate = gauge('strata_level_hit_rate', 'hits / (hits + misses) of the level', ['level']);
  const budget = gauge('strata_level_budget_bytes', 'Byte budget of the level', ['level']);
  const use = gauge('strata_level_memory_use', 'bytes / budget of the level', ['level']);
  const combined = gauge('strata_combined_hit_rate', 'hits / (hits + misses) over every level');
  const firing = gauge('strata_alert_firing', 'Alerts firing now (1 each)', ['level', 'metric']);

  const report = metricsReport(stats);
  for (const level of LEVEL_NAMES) {
    const metrics = report.levels[level];
    hits.inc({ level }, metrics.hits);
    misses.inc({ level }, metrics.misses);
    evictions.inc({ level }, metrics.evictions);
    bytes.set({ level }, metrics.bytes);
    entries.set({ level }, metrics.entries);
    if (metrics.hitRate !== null) rate.set({ level }, metrics.hitRate);
    if (metrics.budget !== null) budget.set({ level }, metrics.budget);
    if (metrics.memoryUse !== null) use.set({ level }, metrics.memoryUse);
  }
  if (report.combined.hitRate !== null) combined.set(report.combined.hitRate);
  for (const alert of evaluateAlerts(report, options)) firing.set({ level: alert.level, metric: alert.metric }, 1);

  gauge('strata_pool_workers', 'Parse workers of the pool').set(stats.pool.workers);
  counter('strata_pool_tasks_total', 'Parse tasks run').inc(stats.pool.tasks);
  counter('strata_pool_busy_milliseconds_total', 'Milliseconds the pool spent on tasks').inc(stats.pool.busyMs);
  counter('strata_pool_retried_files_total', 'Files retried after a worker failure').inc(stats.pool.retriedFiles);
  gauge('strata_disk_bytes', 'Bytes of the persistent store').set(stats.disk.bytes);
  gauge('strata_disk_indexed_files', "Files in this root's persistent index").set(stats.disk.indexedFiles);
  gauge('strata_graph_nodes', 'Nodes of the dependency graph in memory').set(stats.graph.nodes);
  gauge('strata_revision', 'The revision clock (one tick per invalidation)').set(stats.revision);
  const tier = stats.sourceFiles;
  counter('strata_sourcefile_hits_total', 'SourceFile lookups answered by the SourceFile tier').inc(tier.hits);
  counter('strata_sourcefile_misses_total', 'SourceFile lookups the SourceFile tier could not answer').inc(tier.misses);
  counter('strata_sourcefile_evictions_total', 'SourceFiles evicted from the tier').inc(tier.evictions);
  counter('strata_sourcefile_parses_total', 'SourceFiles parsed for the tier').inc(tier.parses);
  gauge('strata_sourcefile_bytes', 'Estimated heap bytes of the SourceFiles held').set(tier.bytes);
  gauge('strata_sourcefile_entries', 'SourceFiles held by the tier').set(tier.entries);
  gauge('strata_sourcefile_budget_bytes', 'Byte budget of the SourceFile tier').set(tier.budget);
  const remote = stats.remote;
  if (remote !== null) {
    gauge('strata_remote_up', '1 while the shared remote tier is on, 0 once it is off for the run').set(remote.state === 'off' ? 0 : 1);
    counter('strata_remote_hits_total', 'Local misses answered by a verified remote entry').inc(remote.hits);
    counter('strata_remote_misses_total', 'Remote lookups with no usable record').inc(remote.misses);
    counter('strata_remote_rejected_total', 'Remote entries rejected (untrusted key, bad signature, digest or decode)').inc(remote.rejected);
    counter('strata_remote_errors_total', 'Remote operations that failed (connect, deadline, server error)').inc(remote.errors);
    counter('strata_remote_uploaded_total', 'Entries written to the remote').inc(remote.uploaded);
    counter('strata_remote_skipped_total', 'Uploads skipped (over the size cap or past the queue bound)').inc(remote.skipped);
    counter('strata_remote_bytes_in_total', 'Bytes read from the remote').inc(remote.bytesIn);
    counter('strata_remote_bytes_out_total', 'Bytes written to the remote').inc(remote.bytesOut);
  }
  return registry;
}

/** The Prometheus text exposition of one stats snapshot. */
export async function prometheusText(stats: EngineStats, options: AlertThresholds = DEFAULT_ALERT_THRESHOLDS): Promise<string> {
  return prometheusRegistry(stats, options).metrics();
}

/** What {@link servePrometheus} reads on each scrape (an Engine fits). */
export interface MetricsSource {
  stats(): EngineStats;
  readonly options: AlertThresholds;
}

export interface ServeOptions {
  /** @default 0 (a free port; read it from `server.address()`) */
  readonly port?: number;
  /** Loopback only: `127.0.0.1`, `::1` or `localhost`. @default '127.0.0.1' */
  readonly host?: '127.0.0.1' | '::1' | 'localhost';
}

const LOOPBACK_HOSTS: readonly string[] = ['127.0.0.1', '::1', 'localhost'];

/**
 * Serves `GET /metrics` (the text exposition) on a loopback address, for long-running hosts;
 * everything else answers 404. Resolves once listening. Close it with `server.close()`.
 */
export function servePrometheus(source: MetricsSource, options: ServeOptions = {}): Promise<http.Server> {
  const host = options.host ?? '127.0.0.1';
  if (!LOOPBACK_HOSTS.includes(host)) return Promise.reject(invalidOption('host', LOOPBACK_HOSTS.join(', '), host));
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) return Promise.reject(invalidOption('port', 'an integer from 0 to 65535', port));
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (request.method === 'GET' && url.pathname === '/') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(DASHBOARD_HTML);
      return;
    }
    if (request.method === 'GET' && url.pathname === '/stats.json') {
      const stats = source.stats();
      const metrics = metricsReport(stats);
      const body = { ...stats, rssBytes: process.memoryUsage.rss(), metrics, alerts: evaluateAlerts(metrics, source.options) };
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      return;
    }
    if (request.method !== 'GET' || url.pathname !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: try GET /metrics, /stats.json or / (dashboard)\n');
      return;
    }
    prometheusText(source.stats(), source.options).then(
      (text) => response.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE }).end(text),
      (error: unknown) => response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`${String(error)}\n`),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
