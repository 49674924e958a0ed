/**
 * Trust but verify: chokidar drops a second `change` of one path within 50 ms (its throttle), so
 * every add/change is re-stat'ed {@link VERIFY_DELAY_MS} later and a fingerprint that moved since
 * is recorded (published as one more `change`). A file found gone is checked once more after
 * chokidar's atomic window before it is reported gone (an atomic save may be replacing it).
 */
import * as path from 'node:path';
import { fingerprintOf, statFile, type KnownFiles } from './file-fingerprint.js';

/** Delay before an add/change is re-stat'ed (past chokidar's 50 ms change throttle). */
export const VERIFY_DELAY_MS = 75;
/** A vanished file is checked again after chokidar's 100 ms atomic window before it is reported gone. */
const VANISHED_RECHECK_MS = 150;

interface VerifyEntry {
  readonly due: number;
  readonly vanishedOnce: boolean;
}

export class VerifyPass {
  readonly #files: KnownFiles;
  /** Paths to re-stat, root-relative → when (performance.now()); ordered by due time. */
  readonly #due = new Map<string, VerifyEntry>();
  #timer: NodeJS.Timeout | null = null;
  #closed = false;
  #verified = 0;

  constructor(files: KnownFiles) {
    this.#files = files;
  }

  /** Paths re-stat'ed so far. */
  get verified(): number {
    return this.#verified;
  }

  schedule(relative: string, now: number): void {
    this.#due.delete(relative); // re-inserted last: the map stays ordered by due time
    this.#due.set(relative, { due: now + VERIFY_DELAY_MS, vanishedOnce: false });
    this.#arm();
  }

  /** Drops a pending check (the file is known gone). */
  cancel(relative: string): void {
    this.#due.delete(relative);
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#due.clear();
  }

  #arm(): void {
    if (this.#timer || this.#closed) return;
    const first = this.#due.values().next();
    if (first.done) return;
    const delay = Math.max(0, first.value.due - performance.now());
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#run();
    }, delay);
  }

  #run(): void {
    if (this.#closed) return;
    const now = performance.now();
    const recheck: [string, VerifyEntry][] = [];
    // apply() may schedule the path again while this loop runs: it lands last, due later, where the loop stops.
    for (const [relative, entry] of this.#due) {
      if (entry.due > now) break;
      this.#due.delete(relative);
      this.#verified++;
      const stats = statFile(path.join(this.#files.root, relative));
      if (stats) {
        this.#files.apply(relative, fingerprintOf(stats), now);
      } else if (this.#files.known.has(relative)) {
        if (!entry.vanishedOnce) recheck.push([relative, { due: now + VANISHED_RECHECK_MS, vanishedOnce: true }]);
        else this.#files.forget([relative], now);
      }
    }
    for (const [relative, entry] of recheck) if (!this.#due.has(relative)) this.#due.set(relative, entry);
    this.#arm();
  }
}
