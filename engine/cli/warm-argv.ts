/**
 * The common `strata warm` command lines, recognised without loading commander or the engine: the
 * CLI's entry (main.ts) decides from this alone whether the run goes through the CLI bundle.
 */
import type { CommonFlags } from './common.js';
import type { RemoteFlags } from './remote-flags.js';

/** `strata warm`'s flags as commander gives them (and {@link parseWarmArgv} answers them). */
export interface WarmFlags extends CommonFlags, RemoteFlags {
  entry?: string[];
  depth?: string;
  changed?: boolean;
  predicted?: boolean;
  predictive?: boolean;
  workers?: string;
  memoryLimit?: string;
  timeLimit?: string;
  persist?: boolean;
  budget?: string;
  include?: string[];
}

/** Value flags of `strata warm` that {@link parseWarmArgv} understands (one value each). */
const FAST_VALUE_FLAGS: Readonly<Record<string, keyof WarmFlags>> = {
  '--root': 'root',
  '--cache-dir': 'cacheDir',
  '--profile': 'profile',
  '--workers': 'workers',
  '--memory-limit': 'memoryLimit',
  '--time-limit': 'timeLimit',
  '--budget': 'budget',
  '--depth': 'depth',
  // A remote warm is a fresh machine's start: start-up counts there too.
  '--remote': 'remote',
  '--remote-mode': 'remoteMode',
  '--remote-namespace': 'remoteNamespace',
  '--remote-signing-key': 'remoteSigningKey',
};
/** Value flags that may repeat, collected in order (as commander's collecting option does). */
const FAST_LIST_FLAGS: Readonly<Record<string, keyof WarmFlags>> = {
  '--remote-trusted-key': 'remoteTrustedKey',
};
/** Boolean flags of `strata warm` that {@link parseWarmArgv} understands, with the value commander gives them. */
const FAST_BOOLEAN_FLAGS: Readonly<Record<string, readonly [keyof WarmFlags | 'verbose', boolean]>> = {
  '--json': ['json', true],
  '--quiet': ['quiet', true],
  '--verbose': ['verbose', true],
  '--changed': ['changed', true],
  '--no-persist': ['persist', false],
  '--predicted': ['predicted', true],
  '--no-predictive': ['predictive', false],
};

/**
 * The common `strata warm` command lines, parsed without loading commander (the restart of an
 * unchanged tree is dominated by start-up): `warm [root]` with the flags above, each at most once,
 * values as separate arguments not starting with `-`. Answers the same root and flags as commander
 * would, or null for anything else (help, variadic or `=` forms, repeats, errors): commander then
 * parses it as usual.
 */
export function parseWarmArgv(argv: readonly string[]): { root: string | undefined; flags: WarmFlags } | null {
  if (argv[0] !== 'warm') return null;
  let root: string | undefined;
  // Commander's defaults for its `--no-…` flags.
  const flags: Record<string, unknown> = { persist: true, predictive: true };
  const seen = new Set<string>();
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('-')) {
      if (root !== undefined) return null;
      root = arg;
      continue;
    }
    const list = Object.hasOwn(FAST_LIST_FLAGS, arg) ? FAST_LIST_FLAGS[arg] : undefined;
    if (list !== undefined) {
      const value = argv[i + 1];
      if (value === undefined || value.startsWith('-')) return null;
      flags[list] = [...((flags[list] as string[] | undefined) ?? []), value];
      i++;
      continue;
    }
    if (seen.has(arg)) return null;
    seen.add(arg);
    const boolean = FAST_BOOLEAN_FLAGS[arg];
    if (boolean !== undefined && Object.hasOwn(FAST_BOOLEAN_FLAGS, arg)) {
      flags[boolean[0]] = boolean[1];
      continue;
    }
    const name = Object.hasOwn(FAST_VALUE_FLAGS, arg) ? FAST_VALUE_FLAGS[arg] : undefined;
    const value = argv[i + 1];
    if (name === undefined || value === undefined || value.startsWith('-')) return null;
    flags[name] = value;
    i++;
  }
  return { root, flags: flags as WarmFlags };
}

