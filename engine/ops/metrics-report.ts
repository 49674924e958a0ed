/**
 * Derived metrics and alerts (issue 6): pure functions over the counters of {@link EngineStats} (or
 * the `levels` of a saved warm report), plus {@link AlertMonitor}, which evaluates on demand and
 * emits each alert once when it starts firing.
 *
 * Rates are `null` where they are undefined (a level nobody asked anything yet): "no data" is never
 * shown as 0 % or 100 %. An alert fires strictly past its threshold: a hit rate below the minimum,
 * a memory use or an eviction rate above the maximum; a value equal to the threshold does not fire.
 */
import type { EngineStats } from './engine-stats.js';
import type { LevelName, LevelSnapshot } from '../level-counters.js';
import type { ResolvedOptions } from '../config/options.js';
import { REPORT_SCHEMA_VERSION } from '../warming/warm-report.js';

/** The level names, in cascade order. */
export const LEVEL_NAMES: readonly LevelName[] = ['content', 'ast', 'results', 'streams'];

/**
 * A level with fewer accesses (hits + misses) than this raises no hit-rate alert: a handful of
 * cold reads says nothing about the cache. @default 20
 */
export const MIN_ACCESSES_FOR_HIT_RATE_ALERT = 20;

/** What the metrics are computed from: counters per level and the memory levels' byte budgets. */
export interface MetricsInput {
  readonly levels: Readonly<Record<LevelName, LevelSnapshot>>;
  /** Byte budget of L1 (`stats().content.budget`); absent when unknown (memory use is then null). */
  readonly content?: { readonly budget: number };
  /** Byte budget of L2 in memory (`stats().ast.budget`). */
  readonly ast?: { readonly budget: number };
}

/** The thresholds alerts are evaluated against (from {@link ResolvedOptions}). */
export type AlertThresholds = Pick<ResolvedOptions, 'alertMinHitRate' | 'alertMaxMemoryUse' | 'alertMaxEvictionRate'>;

export const DEFAULT_ALERT_THRESHOLDS: AlertThresholds = { alertMinHitRate: 0.8, alertMaxMemoryUse: 0.9, alertMaxEvictionRate: 0.1 };

export interface LevelMetrics {
  readonly hits: number;
  readonly misses: number;
  /** hits + misses. */
  readonly accesses: number;
  readonly evictions: number;
  readonly bytes: number;
  readonly entries: number;
  /** hits / accesses; null when there were no accesses. */
  readonly hitRate: number | null;
  /** evictions per access; null when there were no accesses. */
  readonly evictionRate: number | null;
  /** The level's byte budget (content and ast); null for levels without one. */
  readonly budget: number | null;
  /** bytes / budget; null without a budget. */
  readonly memoryUse: number | null;
}

export interface MetricsReport {
  readonly schemaVersion: number;
  readonly levels: Readonly<Record<LevelName, LevelMetrics>>;
  /** All levels together: hits / accesses over every level; null when nothing was accessed. */
  readonly combined: { readonly hits: number; readonly misses: number; readonly accesses: number; readonly hitRate: number | null };
}

export type AlertMetric = 'hit-rate' | 'memory-use' | 'eviction-rate';

export interface Alert {
  readonly level: LevelName;
  readonly metric: AlertMetric;
  readonly value: number;
  readonly threshold: number;
  readonly message: string;
}

/** hits / (hits + misses); null when there were none. */
export function hitRate(level: Pick<LevelSnapshot, 'hits' | 'misses'>): number | null {
  const accesses = level.hits + level.misses;
  return accesses === 0 ? null : level.hits / accesses;
}

/** Evictions per access; null when there were no accesses. */
export function evictionRate(level: Pick<LevelSnapshot, 'hits' | 'misses' | 'evictions'>): number | null {
  const accesses = level.hits + level.misses;
  return accesses === 0 ? null : level.evictions / accesses;
}

/** bytes / budget; null when the budget is unknown or not positive. */
export function memoryUse(bytes: number, budget: number | null | undefined): number | null {
  return budget === null || budget === undefined || !(budget > 0) ? null : bytes / budget;
}

function budgetOf(input: MetricsInput, level: LevelName): number | null {
  if (level === 'content') return input.content?.budget ?? null;
  if (level === 'ast') return input.ast?.budget ?? null;
  return null;
}

/** Every derived metric of a stats snapshot (or of a saved report's `levels`). */
export function metricsReport(input: MetricsInput | EngineStats): MetricsReport {
  const levels = {} as Record<LevelName, LevelMetrics>;
  let hits = 0;
  let misses = 0;
  for (const name of LEVEL_NAMES) {
    const level = input.levels[name];
    const budget = budgetOf(input, name);
    hits += level.hits;
    misses += level.misses;
    levels[name] = {
      hits: level.hits,
      misses: level.misses,
      accesses: level.hits + level.misses,
      evictions: level.evictions,
      bytes: level.bytes,
      entries: level.entries,
      hitRate: hitRate(level),
      evictionRate: evictionRate(level),
      budget,
      memoryUse: memoryUse(level.bytes, budget),
    };
  }
  const accesses = hits + misses;
  return { schemaVersion: REPORT_SCHEMA_VERSION, levels, combined: { hits, misses, accesses, hitRate: accesses === 0 ? null : hits / accesses } };
}

function fixed(value: number): string {
  return value.toFixed(2);
}

/**
 * The alerts firing for a report: per level, a hit rate below `alertMinHitRate` (only with at least
 * `minAccesses` accesses), a memory use above `alertMaxMemoryUse`, an eviction rate above
 * `alertMaxEvictionRate`. Sorted by level (cascade order), then metric.
 */
export function evaluateAlerts(report: MetricsReport, options: AlertThresholds = DEFAULT_ALERT_THRESHOLDS, minAccesses = MIN_ACCESSES_FOR_HIT_RATE_ALERT): Alert[] {
  const alerts: Alert[] = [];
  for (const level of LEVEL_NAMES) {
    const metrics = report.levels[level];
    if (metrics.hitRate !== null && metrics.accesses >= minAccesses && metrics.hitRate < options.alertMinHitRate) {
      alerts.push({
        level,
        metric: 'hit-rate',
        value: metrics.hitRate,
        threshold: options.alertMinHitRate,
        message: `${level} hit rate ${fixed(metrics.hitRate)} < ${fixed(options.alertMinHitRate)} (${metrics.hits} hits, ${metrics.misses} misses)`,
      });
    }
    if (metrics.memoryUse !== null && metrics.memoryUse > options.alertMaxMemoryUse) {
      alerts.push({
        level,
        metric: 'memory-use',
        value: metrics.memoryUse,
        threshold: options.alertMaxMemoryUse,
        message: `${level} memory use ${fixed(metrics.memoryUse)} > ${fixed(options.alertMaxMemoryUse)} of its budget (${metrics.bytes} of ${metrics.budget ?? 0} bytes)`,
      });
    }
    if (metrics.evictionRate !== null && metrics.evictionRate > options.alertMaxEvictionRate) {
      alerts.push({
        level,
        metric: 'eviction-rate',
        value: metrics.evictionRate,
        threshold: options.alertMaxEvictionRate,
        message: `${level} eviction rate ${fixed(metrics.evictionRate)} > ${fixed(options.alertMaxEvictionRate)} per access (${metrics.evictions} evictions, ${metrics.accesses} accesses)`,
      });
    }
  }
  return alerts;
}

export type AlertEvent = 'alert' | 'resolved';
export type AlertListener = (alert: Alert) => void;

/** Identity of an alert across evaluations: one per level and metric. */
function alertKey(alert: Pick<Alert, 'level' | 'metric'>): string {
  return `${alert.level}:${alert.metric}`;
}

/**
 * Evaluates alerts on demand and emits `alert` for each alert that starts firing (not again while it
 * keeps firing) and `resolved` when it stops; an alert that fires again after resolving is emitted
 * again. Costs nothing until `check()` is called (no timers of its own).
 *
 * ```ts
 * const monitor = new AlertMonitor(engine.options, () => engine.stats());
 * monitor.on('alert', (alert) => log(alert.message));
 * setInterval(() => monitor.check(), 60_000).unref();
 * ```
 */
export class AlertMonitor {
  readonly #thresholds: AlertThresholds;
  readonly #source: (() => MetricsInput) | null;
  readonly #minAccesses: number;
  readonly #listeners: Record<AlertEvent, Set<AlertListener>> = { alert: new Set(), resolved: new Set() };
  #firing = new Map<string, Alert>();

  constructor(thresholds: AlertThresholds = DEFAULT_ALERT_THRESHOLDS, source: (() => MetricsInput) | null = null, options: { minAccesses?: number } = {}) {
    this.#thresholds = { alertMinHitRate: thresholds.alertMinHitRate, alertMaxMemoryUse: thresholds.alertMaxMemoryUse, alertMaxEvictionRate: thresholds.alertMaxEvictionRate };
    this.#source = source;
    this.#minAccesses = options.minAccesses ?? MIN_ACCESSES_FOR_HIT_RATE_ALERT;
  }

  /** Adds a listener; returns a function that removes it. */
  on(event: AlertEvent, listener: AlertListener): () => void {
    this.#listeners[event].add(listener);
    return () => this.off(event, listener);
  }

  off(event: AlertEvent, listener: AlertListener): void {
    this.#listeners[event].delete(listener);
  }

  /** The alerts firing as of the last check. */
  get firing(): readonly Alert[] {
    return [...this.#firing.values()];
  }

  /**
   * Evaluates `input` (or the source given to the constructor), emits `alert` for newly firing
   * alerts and `resolved` for those that stopped, and returns the newly firing ones.
   */
  check(input?: MetricsInput): Alert[] {
    const snapshot = input ?? this.#source?.();
    if (snapshot === undefined) throw new TypeError('AlertMonitor.check needs stats: pass them, or give the constructor a source');
    const now = new Map(evaluateAlerts(metricsReport(snapshot), this.#thresholds, this.#minAccesses).map((alert) => [alertKey(alert), alert]));
    const started = [...now].filter(([key]) => !this.#firing.has(key)).map(([, alert]) => alert);
    const stopped = [...this.#firing].filter(([key]) => !now.has(key)).map(([, alert]) => alert);
    this.#firing = now;
    for (const alert of stopped) this.#emit('resolved', alert);
    for (const alert of started) this.#emit('alert', alert);
    return started;
  }

  #emit(event: AlertEvent, alert: Alert): void {
    for (const listener of [...this.#listeners[event]]) listener(alert);
  }
}
