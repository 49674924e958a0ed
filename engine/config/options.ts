/**
 * One place that turns what a user gave (flags, config file, environment) into fully-resolved
 * options. Precedence, lowest to highest: built-in defaults < profile < config file
 * (`strata.config.json` in the root, or the `strata` key of its package.json) < `STRATA_*`
 * environment variables < explicit options (CLI flags). Every value is validated; a bad one is
 * refused with a StrataError('EINVALIDOPTION') that names the option and its accepted values.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { invalidOption } from '../../shared/errors.js';
import { remoteFromEnv, resolveRemote, type RemoteOptions, type ResolvedRemote } from '../remote/remote-config.js';
import { DAY_MS, HOUR_MS, MEBIBYTE, MINUTE_MS, parseDuration, parseSize } from './units.js';

export type ProfileName = 'development' | 'production' | 'ci';
export const PROFILE_NAMES: readonly ProfileName[] = ['development', 'production', 'ci'];

/** How the memory levels are sized: from the profile table, or from the machine's RAM. */
export type BudgetMode = 'profile' | 'auto';

/** Whether a read of cached content checks the file's fingerprint first. */
export type ReadValidation = 'stat' | 'none';

/** Everything Strata can be told. All fields are optional; see `ResolvedOptions` for defaults. */
export interface StrataOptions {
  /** Root of the tree to cache. @default process.cwd() */
  root?: string;
  /** @default 'development' (or STRATA_PROFILE); the `CI` variable never changes it. */
  profile?: ProfileName;
  /** Cache directory. @default `node_modules/.cache/strata` under the root */
  cacheDir?: string;
  /** Persist L2/L3 to the cache directory. @default true */
  persist?: boolean;
  /** Bytes the cache directory may hold; least recently used packs go first. @default 1 GiB / 2 GiB / 512 MiB */
  diskBudget?: number | string;
  /** Packs unused for longer than this are removed. @default 30 days / 30 days / 7 days */
  diskMaxAge?: number | string;
  /** L1 content budget in bytes (or "75MB"). @default profile: 75 / 150 / 50 MiB */
  contentBudget?: number | string;
  /** Fraction of the L1 budget past which LRU entries are evicted. @default 0.8 / 0.7 / 0.6 */
  contentPressureThreshold?: number;
  /** Fraction of the L1 budget past which eviction is aggressive and L1 refuses to grow. @default 0.9 / 0.85 / 0.75 */
  contentAggressiveThreshold?: number;
  /** L2 in-memory budget in bytes. @default 500 / 1000 / 200 MiB */
  astBudget?: number | string;
  /** L2 maximum entries in memory. @default 15000 */
  astMaxEntries?: number;
  /** Estimated bytes of `ts.SourceFile`s the SourceFile tier keeps in memory. @default 256 / 512 / 256 MiB */
  sourceFileBudget?: number | string;
  /** L3 maximum results in memory. @default 5000 / 10000 / 1000 */
  resultsMaxEntries?: number;
  /** L3 maximum dependency-graph nodes in memory. @default 8000 / 15000 / 5000 */
  graphMaxNodes?: number;
  /** L3 result retention in ms (or "12h"). @default 12 h / 48 h / 2 h */
  resultsRetention?: number | string;
  /** L3 cleanup interval in ms. @default 15 / 30 / 5 min */
  resultsCleanupInterval?: number | string;
  /** Save in-memory state every … ms; null = only on close. @default null / 6 h / null */
  saveStateInterval?: number | string | null;
  /** Dependency depth for warming from entries. @default 3 / 3 / 1 */
  warmDepth?: number;
  /** Parse workers; capped at the cores available. @default 4 / 6 / 2 */
  workers?: number;
  /** Warm time limit in ms; null = none. @default null / null / 300 s */
  warmTimeLimit?: number | string | null;
  /** Revalidate cached entries every … ms; null = never. @default 1 h / 1 h / null */
  revalidateInterval?: number | string | null;
  /** Alert when a level's hit rate falls below this. @default 0.8 */
  alertMinHitRate?: number;
  /** Alert when a level uses more than this fraction of its budget. @default 0.9 */
  alertMaxMemoryUse?: number;
  /** Alert when evictions per access exceed this. @default 0.1 */
  alertMaxEvictionRate?: number;
  /** Grow or shrink L1 and L2 from their hit-rate trend and memory pressure. @default true / true / false */
  adaptiveSizing?: boolean;
  /** How often adaptive sizing samples the hit rates, in ms (or "30s"). @default 30 s */
  adaptiveInterval?: number | string;
  /** Adaptive sizing never grows L1 past this. @default 150 / 300 / 100 MiB */
  contentBudgetMax?: number | string;
  /** Adaptive sizing never grows L2 (in memory) past this. @default 1000 / 2000 / 400 MiB */
  astBudgetMax?: number | string;
  /** Files larger than this are skipped. @default 5 MiB */
  maxFileSize?: number | string;
  /** Walk into node_modules. @default false */
  includeNodeModules?: boolean;
  /** Cap on the whole process's RSS (workers included) in bytes, or "512MB"; null = none. @default null */
  memoryLimit?: number | string | null;
  /** @default 'profile' */
  budget?: BudgetMode;
  /** @default 'stat' */
  readValidation?: ReadValidation;
  /**
   * Predictive warming: learn which files are used together and when, prefetch the likely next
   * files on access, and persist what was learned for the next run's startup warming.
   * @default true (every profile; in ci, learned files are warmed after the changed ones)
   */
  predictive?: boolean;
  /**
   * The shared remote tier on Redis (engine/remote/): off unless a URL is given (here, in the
   * config file's `remote`, or STRATA_REMOTE_URL). Merged field by field: config < env < this.
   */
  remote?: RemoteOptions;
}

export interface ResolvedOptions {
  readonly root: string;
  readonly profile: ProfileName;
  readonly cacheDir: string | null;
  readonly persist: boolean;
  readonly diskBudget: number;
  readonly diskMaxAge: number;
  readonly contentBudget: number;
  readonly contentPressureThreshold: number;
  readonly contentAggressiveThreshold: number;
  readonly astBudget: number;
  readonly astMaxEntries: number;
  readonly sourceFileBudget: number;
  readonly resultsMaxEntries: number;
  readonly graphMaxNodes: number;
  readonly resultsRetention: number;
  readonly resultsCleanupInterval: number;
  readonly saveStateInterval: number | null;
  readonly warmDepth: number;
  readonly workers: number;
  readonly warmTimeLimit: number | null;
  readonly revalidateInterval: number | null;
  readonly alertMinHitRate: number;
  readonly alertMaxMemoryUse: number;
  readonly alertMaxEvictionRate: number;
  readonly adaptiveSizing: boolean;
  readonly adaptiveInterval: number;
  readonly contentBudgetMax: number;
  readonly astBudgetMax: number;
  readonly maxFileSize: number;
  readonly includeNodeModules: boolean;
  readonly memoryLimit: number | null;
  readonly budget: BudgetMode;
  readonly readValidation: ReadValidation;
  readonly predictive: boolean;
  /** null when the remote tier is off. */
  readonly remote: ResolvedRemote | null;
}

type ProfileValues = Omit<ResolvedOptions, 'root' | 'profile' | 'cacheDir' | 'remote'>;

const SHARED_DEFAULTS = {
  persist: true,
  astMaxEntries: 15_000,
  alertMinHitRate: 0.8,
  alertMaxMemoryUse: 0.9,
  alertMaxEvictionRate: 0.1,
  adaptiveInterval: 30_000,
  maxFileSize: 5 * MEBIBYTE,
  includeNodeModules: false,
  memoryLimit: null,
  budget: 'profile',
  readValidation: 'stat',
  predictive: true,
} as const;

/** DESIGN.md's profile table. Workers are capped at the cores available when resolved. */
export const PROFILES: Readonly<Record<ProfileName, ProfileValues>> = {
  development: {
    ...SHARED_DEFAULTS,
    diskBudget: 1024 * MEBIBYTE,
    diskMaxAge: 30 * DAY_MS,
    contentBudget: 75 * MEBIBYTE,
    contentPressureThreshold: 0.8,
    contentAggressiveThreshold: 0.9,
    astBudget: 500 * MEBIBYTE,
    sourceFileBudget: 256 * MEBIBYTE,
    resultsMaxEntries: 5_000,
    graphMaxNodes: 8_000,
    resultsRetention: 12 * HOUR_MS,
    resultsCleanupInterval: 15 * MINUTE_MS,
    saveStateInterval: null,
    warmDepth: 3,
    workers: 4,
    warmTimeLimit: null,
    revalidateInterval: HOUR_MS,
    adaptiveSizing: true,
    contentBudgetMax: 150 * MEBIBYTE,
    astBudgetMax: 1000 * MEBIBYTE,
  },
  production: {
    ...SHARED_DEFAULTS,
    diskBudget: 2048 * MEBIBYTE,
    diskMaxAge: 30 * DAY_MS,
    contentBudget: 150 * MEBIBYTE,
    contentPressureThreshold: 0.7,
    contentAggressiveThreshold: 0.85,
    astBudget: 1000 * MEBIBYTE,
    sourceFileBudget: 512 * MEBIBYTE,
    resultsMaxEntries: 10_000,
    graphMaxNodes: 15_000,
    resultsRetention: 48 * HOUR_MS,
    resultsCleanupInterval: 30 * MINUTE_MS,
    saveStateInterval: 6 * HOUR_MS,
    warmDepth: 3,
    workers: 6,
    warmTimeLimit: null,
    revalidateInterval: HOUR_MS,
    adaptiveSizing: true,
    contentBudgetMax: 300 * MEBIBYTE,
    astBudgetMax: 2000 * MEBIBYTE,
  },
  ci: {
    ...SHARED_DEFAULTS,
    diskBudget: 512 * MEBIBYTE,
    diskMaxAge: 7 * DAY_MS,
    contentBudget: 50 * MEBIBYTE,
    contentPressureThreshold: 0.6,
    contentAggressiveThreshold: 0.75,
    astBudget: 200 * MEBIBYTE,
    sourceFileBudget: 256 * MEBIBYTE,
    resultsMaxEntries: 1_000,
    graphMaxNodes: 5_000,
    resultsRetention: 2 * HOUR_MS,
    resultsCleanupInterval: 5 * MINUTE_MS,
    saveStateInterval: null,
    warmDepth: 1,
    workers: 2,
    warmTimeLimit: 300_000,
    revalidateInterval: null,
    // A CI run is over before a hit-rate trend means anything.
    adaptiveSizing: false,
    contentBudgetMax: 100 * MEBIBYTE,
    astBudgetMax: 400 * MEBIBYTE,
  },
};

/** What the machine offers; injected so tests do not depend on the host. */
export interface MachineInfo {
  readonly cores: number;
  readonly totalMemoryBytes: number;
}

export function hostMachine(): MachineInfo {
  return { cores: os.availableParallelism(), totalMemoryBytes: os.totalmem() };
}

/** Where option values come from besides the explicit ones. */
export interface OptionSources {
  /** Environment to read STRATA_* from. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Read `strata.config.json` / package.json `strata` in the root. @default true */
  readonly readConfigFile?: boolean;
  readonly machine?: MachineInfo;
}

type OptionKind = 'remote' | 'size' | 'duration' | 'nullable-duration' | 'nullable-size' | 'count' | 'fraction' | 'boolean' | 'enum' | 'path';

interface OptionSpec {
  readonly kind: OptionKind;
  readonly values?: readonly string[];
  readonly min?: number;
}

/** One declared list of every option: drives env names, config keys and validation. */
const OPTION_SPECS: Readonly<Record<keyof StrataOptions, OptionSpec>> = {
  root: { kind: 'path' },
  profile: { kind: 'enum', values: PROFILE_NAMES },
  cacheDir: { kind: 'path' },
  persist: { kind: 'boolean' },
  diskBudget: { kind: 'size', min: 1 },
  diskMaxAge: { kind: 'duration' },
  contentBudget: { kind: 'size', min: 1 },
  contentPressureThreshold: { kind: 'fraction' },
  contentAggressiveThreshold: { kind: 'fraction' },
  astBudget: { kind: 'size', min: 1 },
  astMaxEntries: { kind: 'count', min: 1 },
  sourceFileBudget: { kind: 'size', min: 1 },
  resultsMaxEntries: { kind: 'count', min: 1 },
  graphMaxNodes: { kind: 'count', min: 1 },
  resultsRetention: { kind: 'duration' },
  resultsCleanupInterval: { kind: 'duration' },
  saveStateInterval: { kind: 'nullable-duration' },
  warmDepth: { kind: 'count', min: 0 },
  workers: { kind: 'count', min: 1 },
  warmTimeLimit: { kind: 'nullable-duration' },
  revalidateInterval: { kind: 'nullable-duration' },
  alertMinHitRate: { kind: 'fraction' },
  alertMaxMemoryUse: { kind: 'fraction' },
  alertMaxEvictionRate: { kind: 'fraction' },
  adaptiveSizing: { kind: 'boolean' },
  adaptiveInterval: { kind: 'duration' },
  contentBudgetMax: { kind: 'size', min: 1 },
  astBudgetMax: { kind: 'size', min: 1 },
  maxFileSize: { kind: 'size', min: 1 },
  includeNodeModules: { kind: 'boolean' },
  memoryLimit: { kind: 'nullable-size' },
  budget: { kind: 'enum', values: ['profile', 'auto'] },
  readValidation: { kind: 'enum', values: ['stat', 'none'] },
  predictive: { kind: 'boolean' },
  remote: { kind: 'remote' },
};

export const OPTION_NAMES = Object.keys(OPTION_SPECS) as (keyof StrataOptions)[];

/** contentBudget → STRATA_CONTENT_BUDGET */
export function envNameOf(option: string): string {
  return 'STRATA_' + option.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase();
}

/** Fraction of the machine's RAM that `budget: 'auto'` gives the memory levels (DESIGN: 10–15%). */
export const AUTO_BUDGET_FRACTION = 0.125;

export function resolveOptions(given: StrataOptions = {}, sources: OptionSources = {}): ResolvedOptions {
  const env = sources.env ?? process.env;
  const machine = sources.machine ?? hostMachine();
  for (const key of Object.keys(given)) {
    if (!(key in OPTION_SPECS)) throw invalidOption(key, `one of the known options (${OPTION_NAMES.join(', ')})`, key);
  }
  const fromEnv = readEnv(env);
  const root = path.resolve(normalize('root', given.root ?? fromEnv.root ?? process.cwd()) as string);
  const fromFile = sources.readConfigFile === false ? {} : readConfigFile(root);
  const profile = normalize('profile', given.profile ?? fromEnv.profile ?? fromFile.profile ?? 'development') as ProfileName;

  const merged: Record<string, unknown> = { ...PROFILES[profile] };
  for (const layer of [fromFile, fromEnv, given] as Record<string, unknown>[]) {
    for (const [key, value] of Object.entries(layer)) {
      if (value !== undefined && key !== 'root' && key !== 'profile' && key !== 'remote') merged[key] = normalize(key as keyof StrataOptions, value);
    }
  }
  const cacheDir = merged.cacheDir as string | undefined;
  const remote = resolveRemote([fromFile.remote, remoteFromEnv(env), given.remote]);
  const resolved = { ...merged, root, profile, remote, cacheDir: cacheDir === undefined ? null : path.resolve(root, cacheDir) } as { -readonly [K in keyof ResolvedOptions]: ResolvedOptions[K] };
  resolved.workers = Math.max(1, Math.min(resolved.workers, machine.cores));
  if (resolved.budget === 'auto') Object.assign(resolved, autoBudgets(resolved, machine));
  // An explicit budget above the profile's maximum raises that maximum: resolving never contradicts
  // a budget the user chose.
  resolved.contentBudgetMax = Math.max(resolved.contentBudgetMax, resolved.contentBudget);
  resolved.astBudgetMax = Math.max(resolved.astBudgetMax, resolved.astBudget);
  if (resolved.contentAggressiveThreshold < resolved.contentPressureThreshold) {
    throw invalidOption('contentAggressiveThreshold', `a fraction ≥ contentPressureThreshold (${resolved.contentPressureThreshold})`, resolved.contentAggressiveThreshold);
  }
  return Object.freeze(resolved) as ResolvedOptions;
}

/** Sizes L1 and L2 to AUTO_BUDGET_FRACTION of RAM, keeping the profile's L1:L2 proportion. */
function autoBudgets(options: ResolvedOptions, machine: MachineInfo): Pick<ResolvedOptions, 'contentBudget' | 'astBudget'> {
  const total = Math.floor(machine.totalMemoryBytes * AUTO_BUDGET_FRACTION);
  const l1Share = options.contentBudget / (options.contentBudget + options.astBudget);
  const contentBudget = Math.max(MEBIBYTE, Math.floor(total * l1Share));
  return { contentBudget, astBudget: Math.max(MEBIBYTE, total - contentBudget) };
}

function readEnv(env: NodeJS.ProcessEnv): StrataOptions {
  const out: Record<string, unknown> = {};
  for (const name of OPTION_NAMES) {
    if (name === 'remote') continue; // STRATA_REMOTE_URL and its siblings: remote-config.ts
    const value = env[envNameOf(name)];
    if (value !== undefined && value !== '') out[name] = value;
  }
  return out as StrataOptions;
}

function readConfigFile(root: string): StrataOptions {
  const configPath = path.join(root, 'strata.config.json');
  const raw = readJson(configPath) ?? (readJson(path.join(root, 'package.json')) as { strata?: unknown } | undefined)?.strata;
  if (raw === undefined) return {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalidOption('config file', 'a JSON object of options', JSON.stringify(raw));
  return raw as StrataOptions;
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined; // absent or unreadable config: defaults apply
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw invalidOption(path.basename(file), 'valid JSON', (error as Error).message);
  }
}

/** Validates one value (from any layer) and converts it to its resolved type. */
function normalize(name: keyof StrataOptions, value: unknown): unknown {
  const spec = OPTION_SPECS[name];
  const refuse = (accepted: string): never => {
    throw invalidOption(name, accepted, value);
  };
  const isNull = value === null || value === 'none' || value === 'null' || value === 'off';
  switch (spec.kind) {
    case 'remote':
      return value; // resolved on its own (resolveRemote)
    case 'path':
      return typeof value === 'string' && value !== '' ? value : refuse('a non-empty path');
    case 'enum':
      return typeof value === 'string' && spec.values!.includes(value) ? value : refuse(spec.values!.join(', '));
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === '1') return true;
      if (value === 'false' || value === '0') return false;
      return refuse('true or false');
    case 'fraction': {
      const n = toNumber(value);
      return n !== undefined && n >= 0 && n <= 1 ? n : refuse('a number from 0 to 1');
    }
    case 'count': {
      const n = toNumber(value);
      return n !== undefined && Number.isInteger(n) && n >= (spec.min ?? 0) ? n : refuse(`an integer ≥ ${spec.min ?? 0}`);
    }
    case 'nullable-size':
    case 'size': {
      if (spec.kind === 'nullable-size' && isNull) return null;
      const n = typeof value === 'number' ? value : typeof value === 'string' ? parseSize(value) : undefined;
      const accepted = `a size in bytes ≥ ${spec.min ?? 1}, or with a unit (e.g. 512MB, 2GiB)${spec.kind === 'nullable-size' ? ', or none' : ''}`;
      return n !== undefined && Number.isFinite(n) && n >= (spec.min ?? 1) ? Math.floor(n) : refuse(accepted);
    }
    case 'nullable-duration':
    case 'duration': {
      if (spec.kind === 'nullable-duration' && isNull) return null;
      const n = typeof value === 'number' ? value : typeof value === 'string' ? parseDuration(value) : undefined;
      const accepted = `a duration in ms, or with a unit (e.g. 300s, 15min, 2h)${spec.kind === 'nullable-duration' ? ', or none' : ''}`;
      return n !== undefined && Number.isFinite(n) && n > 0 ? n : refuse(accepted);
    }
  }
}

function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return undefined;
}
