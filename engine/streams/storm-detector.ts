/**
 * Storm detection: inotify's overflow never reaches chokidar, so a lost event must be inferred.
 * More than `threshold` events within `windowMs` is a storm; once it has been quiet for a moment
 * (or one window after it began) the directories it touched are handed over for a rescan by stat
 * (the whole root when too many were touched to remember).
 */

/** Quiet time after a storm's last event before the rescan runs (it also runs at the latest one window later). */
const STORM_QUIET_MS = 150;
/** Directories remembered per window; past it, a storm rescans the whole root. */
const MAX_TOUCHED_DIRS = 10_000;

export class StormDetector {
  readonly #threshold: number;
  readonly #windowMs: number;
  readonly #onStorm: (dirs: 'all' | string[]) => void;
  #windowStart = 0;
  #windowCount = 0;
  #touchedDirs = new Set<string>();
  #touchedOverflow = false;
  #storm = false;
  #timer: NodeJS.Timeout | null = null;
  #started = 0;

  constructor(threshold: number, windowMs: number, onStorm: (dirs: 'all' | string[]) => void) {
    this.#threshold = threshold;
    this.#windowMs = windowMs;
    this.#onStorm = onStorm;
  }

  /** Counts one watcher event on a root-relative path. */
  count(relative: string, now: number): void {
    if (now - this.#windowStart > this.#windowMs && !this.#storm) this.#reset(now);
    this.#windowCount++;
    if (!this.#touchedOverflow) {
      const slash = relative.lastIndexOf('/');
      this.#touchedDirs.add(slash < 0 ? '' : relative.slice(0, slash));
      if (this.#touchedDirs.size > MAX_TOUCHED_DIRS) this.#touchedOverflow = true;
    }
    if (!this.#storm && this.#windowCount > this.#threshold) {
      this.#storm = true;
      this.#started = now;
    }
    if (this.#storm) this.#arm(now);
  }

  close(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #reset(now: number): void {
    this.#windowStart = now;
    this.#windowCount = 0;
    this.#touchedDirs = new Set();
    this.#touchedOverflow = false;
  }

  /** The rescan runs once the storm has been quiet for a moment, or one window after it began. */
  #arm(now: number): void {
    if (this.#timer) clearTimeout(this.#timer);
    const latest = this.#started + this.#windowMs;
    const delay = Math.max(0, Math.min(STORM_QUIET_MS, latest - now));
    this.#timer = setTimeout(() => {
      this.#timer = null;
      const dirs: 'all' | string[] = this.#touchedOverflow ? 'all' : [...this.#touchedDirs];
      this.#storm = false;
      this.#reset(performance.now());
      this.#onStorm(dirs);
    }, delay);
  }
}
