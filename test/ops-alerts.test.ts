import type { LevelName, LevelSnapshot } from '../engine/level-counters.js';
import { AlertMonitor, evaluateAlerts, metricsReport, MIN_ACCESSES_FOR_HIT_RATE_ALERT, type Alert, type MetricsInput } from '../engine/ops/metrics-report.js';

const thresholds = { alertMinHitRate: 0.8, alertMaxMemoryUse: 0.9, alertMaxEvictionRate: 0.1 };
const idle: LevelSnapshot = { hits: 0, misses: 0, evictions: 0, bytes: 0, entries: 0 };

function input(levels: Partial<Record<LevelName, Partial<LevelSnapshot>>>, budgets = { content: 1000, ast: 1000 }): MetricsInput {
  const level = (name: LevelName): LevelSnapshot => ({ ...idle, ...levels[name] });
  return { levels: { content: level('content'), ast: level('ast'), results: level('results'), streams: level('streams') }, content: { budget: budgets.content }, ast: { budget: budgets.ast } };
}

const alertsOf = (levels: Partial<Record<LevelName, Partial<LevelSnapshot>>>): Alert[] => evaluateAlerts(metricsReport(input(levels)), thresholds);

describe('metricsReport', () => {
  it('derives hit rate, eviction rate and memory use per level, and a combined hit rate', () => {
    const report = metricsReport(input({ content: { hits: 30, misses: 10, evictions: 4, bytes: 500 }, ast: { hits: 10, misses: 30, bytes: 250 } }));
    expect(report.levels.content).toMatchObject({ accesses: 40, hitRate: 0.75, evictionRate: 0.1, budget: 1000, memoryUse: 0.5 });
    expect(report.levels.ast).toMatchObject({ hitRate: 0.25, memoryUse: 0.25 });
    expect(report.combined).toEqual({ hits: 40, misses: 40, accesses: 80, hitRate: 0.5 });
    expect(report.schemaVersion).toBe(1);
  });

  it('answers null rates for a level nobody asked, and null memory use for a level without a budget', () => {
    const report = metricsReport(input({ results: { bytes: 10 } }));
    expect(report.levels.results).toMatchObject({ hitRate: null, evictionRate: null, budget: null, memoryUse: null });
    expect(report.combined.hitRate).toBeNull();
  });
});

describe('evaluateAlerts', () => {
  it('fires a hit-rate alert just below the minimum, and not at or just above it', () => {
    expect(alertsOf({ content: { hits: 79, misses: 21 } })).toEqual([expect.objectContaining({ level: 'content', metric: 'hit-rate', value: 0.79, threshold: 0.8 })]);
    expect(alertsOf({ content: { hits: 80, misses: 20 } })).toEqual([]);
    expect(alertsOf({ content: { hits: 81, misses: 19 } })).toEqual([]);
  });

  it('fires a memory-use alert just above the maximum, and not at or just below it', () => {
    expect(alertsOf({ ast: { hits: 1, bytes: 901 } })).toEqual([expect.objectContaining({ level: 'ast', metric: 'memory-use', value: 0.901, threshold: 0.9 })]);
    expect(alertsOf({ ast: { hits: 1, bytes: 900 } })).toEqual([]);
    expect(alertsOf({ ast: { hits: 1, bytes: 899 } })).toEqual([]);
  });

  it('fires an eviction-rate alert just above the maximum, and not at or just below it', () => {
    expect(alertsOf({ content: { hits: 1000, evictions: 101 } })).toEqual([expect.objectContaining({ level: 'content', metric: 'eviction-rate', value: 0.101, threshold: 0.1 })]);
    expect(alertsOf({ content: { hits: 1000, evictions: 100 } })).toEqual([]);
    expect(alertsOf({ content: { hits: 1000, evictions: 99 } })).toEqual([]);
  });

  it('raises no hit-rate alert for a level with fewer accesses than the minimum', () => {
    expect(MIN_ACCESSES_FOR_HIT_RATE_ALERT).toBe(20);
    expect(alertsOf({ content: { hits: 0, misses: 19 } })).toEqual([]);
    expect(alertsOf({ content: { hits: 0, misses: 20 } })).toEqual([expect.objectContaining({ metric: 'hit-rate', value: 0 })]);
  });

  it('uses the thresholds it is given', () => {
    const report = metricsReport(input({ content: { hits: 85, misses: 15 } }));
    expect(evaluateAlerts(report, { ...thresholds, alertMinHitRate: 0.9 })).toEqual([expect.objectContaining({ metric: 'hit-rate', threshold: 0.9 })]);
    expect(evaluateAlerts(report, thresholds)).toEqual([]);
  });

  it('names the level, the value and the threshold in its message', () => {
    const [alert] = alertsOf({ content: { hits: 42, misses: 58 } });
    expect(alert?.message).toMatch(/^content hit rate 0\.42 < 0\.80/);
  });
});

describe('AlertMonitor', () => {
  it('emits an alert when it starts firing and not again while it keeps firing', () => {
    let current = input({ content: { hits: 10, misses: 90 } });
    const monitor = new AlertMonitor(thresholds, () => current);
    const seen: Alert[] = [];
    monitor.on('alert', (alert) => seen.push(alert));
    expect(monitor.check()).toHaveLength(1);
    current = input({ content: { hits: 20, misses: 180 } });
    expect(monitor.check()).toEqual([]);
    expect(seen.map((alert) => `${alert.level}:${alert.metric}`)).toEqual(['content:hit-rate']);
    expect(monitor.firing).toHaveLength(1);
  });

  it('emits resolved when an alert stops, and alert again when it fires anew', () => {
    const monitor = new AlertMonitor(thresholds);
    const events: string[] = [];
    monitor.on('alert', (alert) => events.push(`alert ${alert.metric}`));
    monitor.on('resolved', (alert) => events.push(`resolved ${alert.metric}`));
    monitor.check(input({ ast: { hits: 1, bytes: 950 } }));
    monitor.check(input({ ast: { hits: 1, bytes: 100 } }));
    monitor.check(input({ ast: { hits: 1, bytes: 950 } }));
    expect(events).toEqual(['alert memory-use', 'resolved memory-use', 'alert memory-use']);
  });

  it('stops calling a listener once it is removed', () => {
    const monitor = new AlertMonitor(thresholds);
    const seen: Alert[] = [];
    const off = monitor.on('alert', (alert) => seen.push(alert));
    off();
    monitor.check(input({ content: { hits: 0, misses: 50 } }));
    expect(seen).toEqual([]);
  });

  it('refuses to check without stats or a source', () => {
    expect(() => new AlertMonitor(thresholds).check()).toThrow(TypeError);
  });
});
