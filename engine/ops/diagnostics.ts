/**
 * `strata doctor`'s report (issue 6): memory diagnosis with recommendations, hit-rate analysis with
 * suggestions, cross-level consistency (the engine's `validate()`, optionally repairing), and alerts.
 *
 * Memory rules (the predecessor's, seed/000_6d7dff5c5f70a24c.txt, "Memory diagnosis"):
 * - the caches (L1 + L2 + L3 bytes) over half of the process RSS → reduce the cache budgets;
 * - the file cache (L1) over its size budget → evict more aggressively;
 * plus the RSS over `memoryLimit`, when one is set.
 *
 * Severity: a `problem` is something wrong now (an inconsistency not repaired, a memory rule broken,
 * an alert firing on the live counters); `advice` is a suggestion from past counters (a cold first
 * warm always has a low hit rate: worth a word, not a failure). `problems` counts problems and
 * firing alerts; `doctor --strict` fails on it.
 */
import type { EngineStats } from './engine-stats.js';
import type { ValidationReport } from './validation.js';
import type { LevelName, LevelSnapshot } from '../level-counters.js';
import { evaluateAlerts, LEVEL_NAMES, metricsReport, MIN_ACCESSES_FOR_HIT_RATE_ALERT, type Alert, type AlertThresholds, type MetricsReport } from './metrics-report.js';
import type { ResolvedOptions } from '../config/options.js';
import { REPORT_SCHEMA_VERSION } from '../warming/warm-report.js';

export type FindingCategory = 'memory' | 'hit-rate' | 'consistency';
export type FindingSeverity = 'problem' | 'advice';

export interface DoctorFinding {
  readonly category: FindingCategory;
  readonly severity: FindingSeverity;
  readonly level: LevelName | 'process';
  /** Root-relative path for consistency findings; null otherwise. */
  readonly path: string | null;
  /** A stable identifier: validate()'s problem, or `caches-over-half-rss`, `content-over-budget`, `rss-over-limit`, `low-hit-rate`, `high-eviction-rate`. */
  readonly problem: string;
  readonly message: string;
  /** True when `--repair` fixed it. */
  readonly repaired: boolean;
}

export interface MemoryDiagnosis {
  readonly rssBytes: number;
  /** L1 + L2 + L3 bytes in memory. */
  readonly cacheBytes: number;
  /** cacheBytes / rssBytes; null when the RSS is unknown (0). */
  readonly cacheShareOfRss: number | null;
  readonly contentBytes: number;
  readonly contentBudget: number;
  readonly astBytes: number;
  readonly astBudget: number;
  readonly memoryLimit: number | null;
}

export interface DoctorReport {
  readonly schemaVersion: number;
  readonly root: string;
  readonly memory: MemoryDiagnosis;
  /** The counters the hit-rate analysis used: the live engine's, or the last warm's when it has none. */
  readonly hitRates: { readonly source: 'engine' | 'last-run' | 'none'; readonly metrics: MetricsReport | null };
  readonly findings: readonly DoctorFinding[];
  readonly recommendations: readonly string[];
  readonly alerts: readonly Alert[];
  /** Consistency findings fixed by `repair`. */
  readonly repaired: number;
  /** Unrepaired problem findings + firing alerts. */
  readonly problems: number;
}

export type DiagnoseOptions = Pick<ResolvedOptions, 'contentBudget' | 'astBudget' | 'memoryLimit'> & AlertThresholds;

export interface DiagnoseInput {
  readonly root: string;
  readonly stats: EngineStats;
  readonly options: DiagnoseOptions;
  /** The engine's `validate()` answer (with or without repair). */
  readonly validation: ValidationReport;
  /** The process RSS. @default process.memoryUsage().rss */
  readonly rssBytes?: number;
  /** The last persisted warm's level counters, for the hit-rate analysis of a fresh process. */
  readonly lastRunLevels?: Readonly<Record<LevelName, LevelSnapshot>> | null;
  /** Accesses a level needs before its hit rate is judged. @default MIN_ACCESSES_FOR_HIT_RATE_ALERT */
  readonly minAccesses?: number;
}

const MEBIBYTE = 1024 * 1024;

function mib(bytes: number): string {
  return `${(bytes / MEBIBYTE).toFixed(1)} MiB`;
}

function percent(fraction: number): string {
  return `${Math.round(fraction * 100)}%`;
}

/** What to do about a level's low hit rate. */
const HIT_RATE_SUGGESTIONS: Readonly<Record<LevelName, string>> = {
  content: 'raise contentBudget or warm first',
  ast: 'raise astBudget / astMaxEntries, keep persistence on, or warm first',
  results: 'raise resultsMaxEntries, or check that the analyzer version is stable between runs',
  streams: 'subscribe before files change',
};

function memoryFindings(input: DiagnoseInput, rssBytes: number): { diagnosis: MemoryDiagnosis; findings: DoctorFinding[]; recommendations: string[] } {
  const levels = input.stats.levels;
  const cacheBytes = levels.content.bytes + levels.ast.bytes + levels.results.bytes;
  const contentBudget = input.stats.content.budget > 0 ? input.stats.content.budget : input.options.contentBudget;
  const astBudget = input.stats.ast.budget > 0 ? input.stats.ast.budget : input.options.astBudget;
  const diagnosis: MemoryDiagnosis = {
    rssBytes,
    cacheBytes,
    cacheShareOfRss: rssBytes > 0 ? cacheBytes / rssBytes : null,
    contentBytes: levels.content.bytes,
    contentBudget,
    astBytes: levels.ast.bytes,
    astBudget,
    memoryLimit: input.options.memoryLimit,
  };
  const findings: DoctorFinding[] = [];
  const recommendations: string[] = [];
  const problem = (level: DoctorFinding['level'], id: string, message: string): void => {
    findings.push({ category: 'memory', severity: 'problem', level, path: null, problem: id, message, repaired: false });
  };
  if (diagnosis.cacheShareOfRss !== null && diagnosis.cacheShareOfRss > 0.5) {
    problem('process', 'caches-over-half-rss', `caches use ${percent(diagnosis.cacheShareOfRss)} of the process RSS (${mib(cacheBytes)} of ${mib(rssBytes)})`);
    recommendations.push('caches use more than half of the process memory: lower contentBudget and astBudget (or set memoryLimit)');
  }
  if (levels.content.bytes > contentBudget) {
    problem('content', 'content-over-budget', `the file cache holds ${mib(levels.content.bytes)}, over its budget of ${mib(contentBudget)}`);
    recommendations.push('the file cache exceeds its budget: lower contentPressureThreshold / contentAggressiveThreshold for more aggressive eviction');
  }
  if (input.options.memoryLimit !== null && rssBytes > input.options.memoryLimit) {
    problem('process', 'rss-over-limit', `the process RSS ${mib(rssBytes)} is over memoryLimit ${mib(input.options.memoryLimit)}`);
    recommendations.push('the process is over memoryLimit: lower the budgets or the workers');
  }
  return { diagnosis, findings, recommendations };
}

function hitRateFindings(metrics: MetricsReport, input: DiagnoseInput, minAccesses: number): { findings: DoctorFinding[]; recommendations: string[] } {
  const findings: DoctorFinding[] = [];
  const recommendations: string[] = [];
  for (const level of LEVEL_NAMES) {
    const m = metrics.levels[level];
    if (m.hitRate !== null && m.accesses >= minAccesses && m.hitRate < input.options.alertMinHitRate) {
      const message = `${level} hit rate ${m.hitRate.toFixed(2)} < ${input.options.alertMinHitRate}: ${HIT_RATE_SUGGESTIONS[level]}`;
      findings.push({ category: 'hit-rate', severity: 'advice', level, path: null, problem: 'low-hit-rate', message, repaired: false });
      recommendations.push(message);
    }
    if (m.evictionRate !== null && m.accesses >= minAccesses && m.evictionRate > input.options.alertMaxEvictionRate) {
      const message = `${level} eviction rate ${m.evictionRate.toFixed(2)} > ${input.options.alertMaxEvictionRate} per access: the level is too small for the working set; raise its budget`;
      findings.push({ category: 'hit-rate', severity: 'advice', level, path: null, problem: 'high-eviction-rate', message, repaired: false });
      recommendations.push(message);
    }
  }
  return { findings, recommendations };
}

function consistencyFindings(validation: ValidationReport): DoctorFinding[] {
  const repaired = validation.repaired > 0;
  return validation.findings.map((finding) => ({
    category: 'consistency',
    severity: 'problem',
    level: finding.level,
    path: finding.path,
    problem: finding.problem,
    message: `${finding.level}: ${finding.path}: ${finding.problem}${repaired ? ' (repaired)' : ''}`,
    repaired,
  }));
}

/** The doctor's report from the engine's answers (see the module comment). Pure but for the RSS default. */
export function diagnose(input: DiagnoseInput): DoctorReport {
  const rssBytes = input.rssBytes ?? process.memoryUsage().rss;
  const minAccesses = input.minAccesses ?? MIN_ACCESSES_FOR_HIT_RATE_ALERT;
  const memory = memoryFindings(input, rssBytes);
  const live = metricsReport(input.stats);
  const alerts = evaluateAlerts(live, input.options, minAccesses);
  const hitRates: DoctorReport['hitRates'] =
    live.combined.accesses > 0
      ? { source: 'engine', metrics: live }
      : input.lastRunLevels
        ? { source: 'last-run', metrics: metricsReport({ levels: input.lastRunLevels, content: { budget: input.options.contentBudget }, ast: { budget: input.options.astBudget } }) }
        : { source: 'none', metrics: null };
  const rates = hitRates.metrics === null ? { findings: [], recommendations: [] } : hitRateFindings(hitRates.metrics, input, minAccesses);
  const consistency = consistencyFindings(input.validation);
  const findings = [...consistency, ...memory.findings, ...rates.findings];
  const recommendations = [...memory.recommendations, ...rates.recommendations];
  const unrepaired = consistency.filter((finding) => !finding.repaired).length;
  if (unrepaired > 0) recommendations.push(`${unrepaired} cache inconsistencies: run \`strata doctor --repair\` (entries are rebuilt on the next warm)`);
  const problems = findings.filter((finding) => finding.severity === 'problem' && !finding.repaired).length + alerts.length;
  return { schemaVersion: REPORT_SCHEMA_VERSION, root: input.root, memory: memory.diagnosis, hitRates, findings, recommendations, alerts, repaired: input.validation.repaired, problems };
}

/** {@link diagnose} over an engine: its stats, options and `validate({ repair })`. */
/** What {@link diagnoseEngine} reads: an engine fits. */
export interface DiagnosedEngine {
  readonly options: ResolvedOptions;
  stats(): EngineStats;
  validate(options: { repair?: boolean }): ValidationReport;
}

export function diagnoseEngine(engine: DiagnosedEngine, options: { repair?: boolean; rssBytes?: number; lastRunLevels?: DiagnoseInput['lastRunLevels'] } = {}): DoctorReport {
  const validation = engine.validate({ repair: options.repair === true });
  return diagnose({
    root: engine.options.root,
    stats: engine.stats(),
    options: engine.options,
    validation,
    ...(options.rssBytes !== undefined ? { rssBytes: options.rssBytes } : {}),
    ...(options.lastRunLevels !== undefined ? { lastRunLevels: options.lastRunLevels } : {}),
  });
}
