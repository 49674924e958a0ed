/** Flags every command takes, and the machine probe for `--budget auto`. */
import type { Command } from 'commander';
import { hostMachine, type MachineInfo, type StrataOptions } from '../config/options.js';

export interface CommonFlags {
  root?: string;
  cacheDir?: string;
  profile?: string;
  json?: boolean;
  quiet?: boolean;
}

export function commonOptions(command: Command): Command {
  return command
    .option('--root <dir>', 'root of the tree (default: the current directory)')
    .option('--cache-dir <dir>', 'cache directory (default: node_modules/.cache/strata under the root)')
    .option('--profile <name>', 'development, production or ci (default: development, or STRATA_PROFILE)')
    .option('--json', 'print one JSON object on stdout; logs go to stderr')
    .option('--quiet', 'print nothing but errors (and JSON with --json)')
    .option('--verbose', 'log what Strata does to stderr (as STRATA_LOG=debug)');
}

/** RAM from systeminformation when the budget is sized from the machine; cheap os figures otherwise. */
export async function machineFor(options: StrataOptions): Promise<MachineInfo> {
  const host = hostMachine();
  if (options.budget !== 'auto' && process.env.STRATA_BUDGET !== 'auto') return host;
  // require, not import(): the CLI bundle runs through a V8 code cache, and Node drops a cached
  // script's dynamic-import callback (bundle-load.ts); systeminformation is CommonJS.
  const si = require('systeminformation') as typeof import('systeminformation');
  const memory = await si.mem();
  return { cores: host.cores, totalMemoryBytes: memory.total };
}

/** The options every command shares, from its positional root and common flags. */
export function optionsFromCommon(root: string | undefined, flags: CommonFlags): StrataOptions {
  const chosenRoot = root ?? flags.root;
  return {
    ...(chosenRoot !== undefined ? { root: chosenRoot } : {}),
    ...(flags.cacheDir !== undefined ? { cacheDir: flags.cacheDir } : {}),
    ...(flags.profile !== undefined ? { profile: flags.profile as StrataOptions['profile'] } : {}),
  };
}
