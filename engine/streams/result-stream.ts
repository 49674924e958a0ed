/**
 * Recomputed results as a stream: wraps a change subscription so that each add or change of a
 * source file yields the analyzer's result for the file's new state. Results are computed when the
 * consumer pulls the next item, never ahead of it: a slow consumer never makes the pool do work it
 * cannot take (backpressure reaches the producers), and its change queue coalesces meanwhile.
 * Two result streams of the same analyzer share one computation per file state (engine-wide
 * in-flight map in L3).
 */
import type { AnalyzerResults, ComputeContext } from '../results/analyzer-results.js';
import type { WatchEvent } from './event-queue.js';
import type { Subscription } from './watch-service.js';

export type ResultEvent<T> =
  | { readonly event: 'result'; readonly path: string; readonly value: T; readonly revision: number }
  | { readonly event: 'error'; readonly path: string; readonly code: string; readonly message: string; readonly revision: number }
  | WatchEvent;

export interface ResultStream<T> extends AsyncIterable<ResultEvent<T>> {
  next(): Promise<IteratorResult<ResultEvent<T>, undefined>>;
  close(): void;
}

export function resultStream<T>(
  changes: Subscription,
  results: AnalyzerResults<T>,
  compute: (context: ComputeContext) => T | Promise<T>,
  isSource: (path: string) => boolean,
): ResultStream<T> {
  const pending: ResultEvent<T>[] = [];
  const stream: ResultStream<T> = {
    async next() {
      const queued = pending.shift();
      if (queued !== undefined) return { value: queued, done: false };
      const change = await changes.next();
      if (change.done) return { value: undefined, done: true };
      const event = change.value;
      if ((event.event === 'add' || event.event === 'change') && isSource(event.path)) {
        try {
          const value = await results.compute(event.path, compute);
          pending.push({ event: 'result', path: event.path, value, revision: event.revision });
        } catch (error) {
          const code = (error as { code?: unknown }).code;
          pending.push({ event: 'error', path: event.path, code: typeof code === 'string' ? code : 'EWORKER', message: (error as Error).message, revision: event.revision });
        }
      }
      return { value: event, done: false };
    },
    close() {
      changes.close();
    },
    [Symbol.asyncIterator]() {
      return stream;
    },
  };
  return stream;
}
