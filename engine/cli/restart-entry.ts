/**
 * The restart lane's bundle entry (bundle-build.ts writes it as its own small bundle): main.ts asks
 * it first for a plain `strata warm`, and loads the CLI bundle only when it declines. Answered here:
 * `warm [root]` with `--root`, `--cache-dir`, `--profile`, `--workers`, `--json`, `--quiet`,
 * `--no-predictive` (none changes what a warm of an unchanged tree does), without `--verbose` or a
 * `STRATA_LOG` level that logs more than warnings; the lane itself then decides (engine/restart/).
 * `STRATA_RESTART=off` turns it off.
 */
import type { StrataOptions } from '../config/options.js';
import { answerRestart, type RestartAnswer } from '../warming/restart-lane.js';
import { optionsFromCommon } from './common.js';
import { EXIT_OK } from './exit-codes.js';
import { log, printJson } from './output.js';
import { parseWarmArgv, type WarmFlags } from './warm-argv.js';
import { summarize } from './warm-summary.js';

/** Flags that leave a warm of an unchanged tree as it is (with their parsed values). */
const LANE_FLAGS: ReadonlySet<string> = new Set(['root', 'cacheDir', 'profile', 'workers', 'json', 'quiet', 'persist', 'predictive']);

/** The lane's answer for this command line, printed; null when the full CLI must run it. */
export function runRestartLane(argv: readonly string[], startedAt: number, env: NodeJS.ProcessEnv = process.env): number | null {
  const asked = laneRequest(argv, env);
  const report = asked === null ? null : answerRestart({ options: asked.options, startedAt, env }).report;
  if (asked === null || report === null) return null;
  if (asked.flags.json) printJson({ ...report, processMaxRssBytes: process.resourceUsage().maxRSS * 1024 });
  else if (!asked.flags.quiet) log(summarize(report));
  return EXIT_OK;
}

/** What the lane answers for this command line; null when the command line is not one it takes. */
export function restartAnswerFor(argv: readonly string[], startedAt: number, env: NodeJS.ProcessEnv = process.env): RestartAnswer | null {
  const asked = laneRequest(argv, env);
  return asked === null ? null : answerRestart({ options: asked.options, startedAt, env });
}

/** The command line's flags and the options they give, when it is one the lane takes; else null. */
function laneRequest(argv: readonly string[], env: NodeJS.ProcessEnv): { readonly flags: WarmFlags; readonly options: StrataOptions } | null {
  if (env.STRATA_RESTART === 'off' || env.STRATA_LOG === 'info' || env.STRATA_LOG === 'debug') return null;
  const parsed = parseWarmArgv(argv);
  if (parsed === null) return null;
  const { root, flags } = parsed;
  for (const [flag, value] of Object.entries(flags)) {
    if (!LANE_FLAGS.has(flag)) return null;
    if (flag === 'persist' && value !== true) return null;
  }
  let workers: number | undefined;
  if (flags.workers !== undefined) {
    // As warm-command.ts reads it; anything it refuses goes to the full path, which says why.
    workers = Number(flags.workers);
    if (flags.workers.trim() === '' || !Number.isFinite(workers) || workers <= 0) return null;
  }
  const options = { ...optionsFromCommon(root, flags), ...(workers !== undefined ? { workers } : {}), ...(flags.predictive === false ? { predictive: false } : {}) };
  return { flags, options };
}
