/**
 * New-directory rechecks: chokidar lists a new directory once it watches it, and can miss files
 * created in it before then. New directories are batched, re-read shortly after (the outermost of
 * them only: a rescan walks what is below), then again a bounded number of times while files may
 * still be landing in them (a checkout, an unpacked archive).
 */
import { VERIFY_DELAY_MS } from './verify-pass.js';

/** Further re-reads of a new directory after the first, in ms: files written into it meanwhile are not missed. */
export const NEW_DIR_RECHECKS_MS = [400, 1_500] as const;

export class NewDirChecks {
  readonly #check: (dirs: string[]) => void;
  /** New directories to re-read, root-relative. */
  readonly #pending = new Set<string>();
  #timer: NodeJS.Timeout | null = null;
  /** Later re-reads (see NEW_DIR_RECHECKS_MS). */
  readonly #followUps = new Set<NodeJS.Timeout>();
  #closed = false;

  constructor(check: (dirs: string[]) => void) {
    this.#check = check;
  }

  /** A root-relative directory chokidar reported new. */
  add(relative: string): void {
    this.#pending.add(relative);
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (this.#closed) return;
      const dirs = [...this.#pending].filter((d) => ![...this.#pending].some((other) => other !== d && d.startsWith(`${other}/`)));
      this.#pending.clear();
      this.#check(dirs);
      for (const delay of NEW_DIR_RECHECKS_MS) {
        const timer = setTimeout(() => {
          this.#followUps.delete(timer);
          if (!this.#closed) this.#check(dirs);
        }, delay);
        this.#followUps.add(timer);
      }
    }, VERIFY_DELAY_MS);
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    for (const timer of this.#followUps) clearTimeout(timer);
    this.#followUps.clear();
    this.#pending.clear();
  }
}
