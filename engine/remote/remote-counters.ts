/**
 * The remote tier's counters, and one warm's share of them. Apart from remote-tier.ts so that a warm
 * (which reports them) loads nothing of the tier when no remote is configured.
 */
import type { RemoteState } from './remote-client.js';

export interface RemoteCounters {
  readonly state: RemoteState;
  readonly hits: number;
  readonly misses: number;
  readonly rejected: number;
  readonly errors: number;
  readonly uploaded: number;
  readonly skipped: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
}

/** What the counters moved by between `before` and `now` (the state is now's). */
export function countersSince(now: RemoteCounters, before: RemoteCounters): RemoteCounters {
  return {
    state: now.state,
    hits: now.hits - before.hits,
    misses: now.misses - before.misses,
    rejected: now.rejected - before.rejected,
    errors: now.errors - before.errors,
    uploaded: now.uploaded - before.uploaded,
    skipped: now.skipped - before.skipped,
    bytesIn: now.bytesIn - before.bytesIn,
    bytesOut: now.bytesOut - before.bytesOut,
  };
}
