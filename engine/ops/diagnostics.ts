/**
 * `strata doctor`'s report (issue 6): memory diagnosis with recommendations, hit-rate analysis with
 * suggestions, cross-level consistency (the engine's `validate()`, optionally repairing), and alerts.
 *
 * Memory rules (the predecessor's, seed/000_6d7dff5c5f70a24c.txt, "Memory diagnosis"):
 * - the caches (L1 + L2 + L3 bytes) over half of the process RSS → reduce the cache budgets;
 * - the file cache (L1) over its size budget → evict more aggressively;
 * plus the RSS over `memoryLimit`, when one is set.
 *
 * Hit rates are judged only over work that could have hit: a miss that no budget avoids (the first
 * read of a file in a process, every read of a cold warm, which reads each file once) says nothing
 * about the budgets. A miss could have been a hit only if the level evicted something before (it is
 * bounded by the evictions) and, for the last warm's counters, only on a repeated read (accesses
 * beyond one per file). Where that leaves fewer than `minAccesses`, the report says there is too
 * little history to advise, instead of advising.
 *
 * Severity: a `problem` is something wrong now (an inconsistency not repaired, a memory rule broken,
 * an alert firing on the live counters); `advice` is a suggestion from past counters (a cold first
 * warm always has a low hit rate: worth a word, not a failure). `problems` counts problems and
 * firing alerts; `doctor --strict` fails on it.
 */
import type { EngineStats } from './engine-stats.js';
import type { ValidationReport } from './validation.js';
import type { LevelName, LevelSnapshot } from '../level-counters.js';
import { evaluateAlerts, LEVEL_NAMES, metricsReport, MIN_ACCESSES_FOR_HIT_RATE_ALERT, type Alert, type AlertThresholds, type LevelMetrics, type MetricsReport } from './metrics-report.js';
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
  readonly hitRates: {
    readonly source: 'engine' | 'last-run' | 'none';
    readonly metrics: MetricsReport | null;
    /** Per level, the accesses that could have hit and the hit rate over them (null: none could). */
    readonly judged: Readonly<Record<LevelName, JudgedHitRate>> | null;
    /** Why levels with accesses were not judged (too little history), or null. */
    readonly note: string | null;
  };
  readonly findings: readonly DoctorFinding[];
  readonly recommendations: readonly string[];
  readonly alerts: readonly Alert[];
  /** Consistency findings fixed by `repair`. */
  readonly repaired: number;
  /** Unrepaired problem findings + firing alerts. */
  readonly problems: number;
}

/** A level's hit rate over the accesses that could have hit. */
export interface JudgedHitRate {
  /** Hits plus the misses a bigger budget might have avoided. */
  readonly couldHaveHit: number;
  /** hits / couldHaveHit; null when nothing could have hit. */
  readonly hitRate: number | null;
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
  /** The last persisted warm's files and where their ASTs came from (with `lastRunLevels`). */
  readonly lastRunFiles?: { readonly files: number; readonly fromDisk: number } | null;
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

/**
 * A level's hit rate over the accesses that could have hit (the module comment): the misses a bigger
 * budget might have avoided are at most its evictions and, when each file's first read is known to
 * be one access (a warm's counters), at most the repeated reads that missed.
 */
export function judgeHitRate(level: Pick<LevelMetrics, 'hits' | 'misses' | 'evictions'>, files: number | null): JudgedHitRate {
  // A warm's first read of each file is a miss (a fresh process): the misses beyond one per file are repeats.
  const repeatedMisses = files === null ? Infinity : Math.max(0, level.misses - files);
  const avoidable = Math.min(level.misses, level.evictions, repeatedMisses);
  const couldHaveHit = level.hits + avoidable;
  return { couldHaveHit, hitRate: couldHaveHit === 0 ? null : level.hits / couldHaveHit };
}

function judgeLevels(metrics: MetricsReport, files: number | null): Record<LevelName, JudgedHitRate> {
  const judged = {} as Record<LevelName, JudgedHitRate>;
  for (const level of LEVEL_NAMES) judged[level] = judgeHitRate(metrics.levels[level], files);
  return judged;
}

/** Why levels with accesses are not judged: too few of them could have hit. Null when every level with accesses is judged. */
function historyNote(metrics: MetricsReport, judged: Readonly<Record<LevelName, JudgedHitRate>>, input: DiagnoseInput, minAccesses: number): string | null {
  const tooLittle = LEVEL_NAMES.filter((level) => metrics.levels[level].accesses > 0 && judged[level].couldHaveHit < minAccesses).map(
    (level) => `${level} (${metrics.levels[level].accesses} accesses, ${judged[level].couldHaveHit} of them could have hit)`,
  );
  if (tooLittle.length === 0) return null;
  const restart = input.lastRunFiles && input.lastRunFiles.fromDisk > 0 ? ` (the last warm took ${input.lastRunFiles.fromDisk} of its ${input.lastRunFiles.files} files' ASTs from the disk store)` : '';
  return `too little history to judge: ${tooLittle.join(', ')}; first reads miss whatever the budget${restart}. Ask again after repeated reads or a long-running session`;
}

function hitRateFindings(metrics: MetricsReport, judged: Readonly<Record<LevelName, JudgedHitRate>>, input: DiagnoseInput, minAccesses: number): { findings: DoctorFinding[]; recommendations: string[] } {
  const findings: DoctorFinding[] = [];
  const recommendations: string[] = [];
  for (const level of LEVEL_NAMES) {
    const m = metrics.levels[level];
    const { couldHaveHit, hitRate } = judged[level];
    // Evictions and misses only cost something where reads repeat: judged over the same accesses.
    if (couldHaveHit < minAccesses) continue;
    if (hitRate !== null && hitRate < input.options.alertMinHitRate) {
      const message = `${level} hit rate ${hitRate.toFixed(2)} < ${input.options.alertMinHitRate} over ${couldHaveHit} accesses that could have hit: ${HIT_RATE_SUGGESTIONS[level]}`;
      findings.push({ category: 'hit-rate', severity: 'advice', level, path: null, problem: 'low-hit-rate', message, repaired: false });
      recommendations.push(message);
    }
    if (m.evictionRate !== null && m.evictionRate > input.options.alertMaxEvictionRate) {
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
  const lastRun = input.lastRunLevels ? metricsReport({ levels: input.lastRunLevels, content: { budget: input.options.contentBudget }, ast: { budget: input.options.astBudget } }) : null;
  const source = live.combined.accesses > 0 ? 'engine' : lastRun !== null ? 'last-run' : 'none';
  const metrics = source === 'engine' ? live : lastRun;
  const judged = metrics === null ? null : judgeLevels(metrics, source === 'last-run' ? (input.lastRunFiles?.files ?? null) : null);
  const hitRates: DoctorReport['hitRates'] = { source, metrics, judged, note: metrics === null || judged === null ? null : historyNote(metrics, judged, input, minAccesses) };
  const rates = metrics === null || judged === null ? { findings: [], recommendations: [] } : hitRateFindings(metrics, judged, input, minAccesses);
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

export function diagnoseEngine(engine: DiagnosedEngine, options: { repair?: boolean; rssBytes?: number; lastRunLevels?: DiagnoseInput['lastRunLevels']; lastRunFiles?: DiagnoseInput['lastRunFiles'] } = {}): DoctorReport {
  const validation = engine.validate({ repair: options.repair === true });
  return diagnose({
    root: engine.options.root,
    stats: engine.stats(),
    options: engine.options,
    validation,
    ...(options.rssBytes !== undefined ? { rssBytes: options.rssBytes } : {}),
    ...(options.lastRunLevels !== undefined ? { lastRunLevels: options.lastRunLevels } : {}),
    ...(options.lastRunFiles !== undefined ? { lastRunFiles: options.lastRunFiles } : {}),
  });
}
