/**
 * Recomputed results as a stream: wraps a change subscription so that each event is followed by the
 * analyzer's results for the files it invalidated: the changed file itself (added or changed) and
 * each dependent the event names (a deleted file's dependents too). Each result says which change
 * it belongs to (`cause`, the event's path, and the event's `revision`). A dependent whose result key
 * did not change is answered from L3, not recomputed.
 *
 * Results are computed when the consumer pulls the next item, one at a time, never ahead of it: a
 * slow consumer never makes the pool do work it cannot take (backpressure reaches the producers),
 * and its change queue coalesces meanwhile. Two result streams of the same analyzer share one
 * computation per file state (engine-wide in-flight map in L3).
 */
import type { AnalyzerResults, ComputeContext } from '../results/analyzer-results.js';
import type { WatchEvent } from './event-queue.js';
import type { Subscription } from './watch-service.js';

export type ResultEvent<T> =
  | { readonly event: 'result'; readonly path: string; readonly value: T; readonly revision: number; readonly cause: string }
  | { readonly event: 'error'; readonly path: string; readonly code: string; readonly message: string; readonly revision: number; readonly cause: string }
  | WatchEvent;

export interface ResultStream<T> extends AsyncIterable<ResultEvent<T>> {
  next(): Promise<IteratorResult<ResultEvent<T>, undefined>>;
  close(): void;
}

/** A result owed to the consumer: computed when it pulls. */
interface Owed {
  readonly path: string;
  readonly cause: string;
  readonly revision: number;
}

/** The files whose results an event calls for: the file itself unless deleted, then its dependents. */
export function filesToRecompute(event: WatchEvent, isSource: (path: string) => boolean): string[] {
  if (event.event === 'resync') return []; // the consumer re-reads everything it needs
  const files = event.event === 'unlink' ? [] : [event.path];
  for (const file of event.invalidated) if (file !== event.path) files.push(file);
  return files.filter(isSource);
}

export function resultStream<T>(
  changes: Subscription,
  results: AnalyzerResults<T>,
  compute: (context: ComputeContext) => T | Promise<T>,
  isSource: (path: string) => boolean,
): ResultStream<T> {
  const owed: Owed[] = [];
  const resultOf = async ({ path, cause, revision }: Owed): Promise<ResultEvent<T>> => {
    try {
      const value = await results.compute(path, compute);
      return { event: 'result', path, value, revision, cause };
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      return { event: 'error', path, code: typeof code === 'string' ? code : 'EWORKER', message: (error as Error).message, revision, cause };
    }
  };
  const stream: ResultStream<T> = {
    async next() {
      const first = owed.shift();
      if (first !== undefined) return { value: await resultOf(first), done: false };
      const change = await changes.next();
      if (change.done) return { value: undefined, done: true };
      const event = change.value;
      for (const path of filesToRecompute(event, isSource)) owed.push({ path, cause: event.path, revision: event.revision });
      return { value: event, done: false };
    },
    close() {
      owed.length = 0;
      changes.close();
    },
    [Symbol.asyncIterator]() {
      return stream;
    },
  };
  return stream;
}
