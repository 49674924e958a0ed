/**
 * Every error Strata raises or reports carries a permanent `code`. Callers branch on `code`,
 * never on message text. File-level codes appear in warm reports (`failed[]`); the rest are thrown.
 */

/** Codes for a file that could not be parsed (reported in `failed`, never thrown by a warm). */
export type FileFailureCode =
  | 'EACCES' // permission denied while reading
  | 'ENOENT' // vanished between discovery and read
  | 'EISDIR' // became a directory during the warm
  | 'EIO' // any other read error
  | 'EINVALIDUTF8' // content is not valid UTF-8
  | 'EWORKER'; // the worker parsing it threw or died

/** Reasons a source file is skipped (reported in `skipped`). */
export type SkipReason = 'binary' | 'too-large' | 'symlink-outside-root' | 'symlink-loop';

/** Codes thrown to callers. */
export type StrataErrorCode =
  | FileFailureCode
  | 'EINVALIDOPTION' // an option value is not accepted; message names the option and its values
  | 'ENOTINROOT' // a path given to the engine lies outside its root
  | 'ENOTCACHED' // the file is not a source file the engine can answer for
  | 'ECLOSED' // the engine was closed
  | 'EBUDGET' // a single entry can never fit its level's budget
  | 'ECORRUPT' // an encoded entry failed validation
  | 'EREMOTE' // a remote record was rejected (signature, key, digest, size) or the remote failed
  | 'ESTALE'; // an AST answer's text was read after its file changed (ask for the AST again)

export class StrataError extends Error {
  override readonly name = 'StrataError';
  readonly code: StrataErrorCode;
  /** Root-relative path (or option name for EINVALIDOPTION) the error is about, when there is one. */
  readonly path: string | undefined;

  constructor(code: StrataErrorCode, message: string, path?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.path = path;
  }

  toJSON(): { code: StrataErrorCode; path: string | undefined; message: string } {
    return { code: this.code, path: this.path, message: this.message };
  }
}

export function isStrataError(value: unknown): value is StrataError {
  return value instanceof Error && (value as { name?: unknown }).name === 'StrataError';
}

/** An option value was refused. The message names the option and what it accepts. */
export function invalidOption(option: string, accepted: string, got: unknown): StrataError {
  const shown = typeof got === 'string' ? JSON.stringify(got) : String(got);
  return new StrataError('EINVALIDOPTION', `Invalid value for option "${option}": ${shown}. Accepted: ${accepted}.`, option);
}

/** Maps a Node.js fs error to the file-failure code reported for it. */
export function fileFailureCodeOf(error: unknown): FileFailureCode {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'EACCES';
    case 'ENOENT':
    case 'ENOTDIR':
      return 'ENOENT';
    case 'EISDIR':
      return 'EISDIR';
    default:
      return 'EIO';
  }
}

/** A file that could not be parsed, as reported by a warm. */
export interface FileFailure {
  readonly path: string;
  readonly code: FileFailureCode;
  readonly message: string;
}

/** A source file that was deliberately not parsed, as reported by a warm. */
export interface FileSkip {
  readonly path: string;
  readonly reason: SkipReason;
}

export function assertNever(value: never, what = 'value'): never {
  throw new Error(`Unexpected ${what}: ${JSON.stringify(value)}`);
}
