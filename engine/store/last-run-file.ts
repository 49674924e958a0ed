/**
 * The last warm's report of a root, kept in the cache directory (`runs/<index id>.json`) for
 * `strata stats` and `strata doctor` in a fresh process. JSON with a checksum, so that a flipped
 * byte (a digit in a counter) is detected, not shown: `{ "xxh64": "<hex of body>", "run": <body> }`
 * where body is the exact JSON text of the report (JSON.stringify of the parsed `run` gives it back).
 *
 * Replaced by rename so a reader never sees half a file, but not fsynced: losing it to a power cut
 * costs nothing (the next warm writes it again), and an fsync would be a noticeable share of a
 * restart's time.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { xxh64String } from '../../native-bindings/hash.js';
import { ensurePrivateDir } from './layout.js';

export type LastRunLoad = { readonly status: 'loaded'; readonly run: Record<string, unknown> } | { readonly status: 'missing' | 'corrupt'; readonly run: null };

/** Writes `run` (plain JSON data); best effort: a read-only cache only loses it. */
export function saveLastRun(file: string, run: object): void {
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    ensurePrivateDir(path.dirname(file));
    const body = JSON.stringify(run);
    fs.writeFileSync(temporary, `{"xxh64":"${xxh64String(body)}","run":${body}}`, { mode: 0o600 });
    fs.renameSync(temporary, file);
  } catch {
    fs.rmSync(temporary, { force: true });
    // stats then shows no last run: nothing else depends on it
  }
}

/** Reads and verifies the file: `corrupt` for anything that is not exactly what {@link saveLastRun} wrote. */
export function loadLastRun(file: string): LastRunLoad {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return { status: 'missing', run: null }; // no warm persisted yet (or unreadable): nothing to show
  }
  try {
    const parsed = JSON.parse(text) as { xxh64?: unknown; run?: unknown };
    const run = parsed.run;
    if (typeof run !== 'object' || run === null || Array.isArray(run) || typeof parsed.xxh64 !== 'string') return { status: 'corrupt', run: null };
    if (xxh64String(JSON.stringify(run)) !== parsed.xxh64) return { status: 'corrupt', run: null };
    return { status: 'loaded', run: run as Record<string, unknown> };
  } catch {
    return { status: 'corrupt', run: null }; // not JSON: truncated, zeroed or overwritten
  }
}
