/**
 * Diagnostic logging to stderr (never stdout: `--json` output stays clean). The level comes from
 * `--verbose` / `--quiet`, else `STRATA_LOG` (`silent`, `error`, `warn`, `info`, `debug`), else `warn`.
 */
export type LogLevel = 'silent' | 'error' | 'warn' | 'info' | 'debug';

const ORDER: Readonly<Record<LogLevel, number>> = { silent: 0, error: 1, warn: 2, info: 3, debug: 4 };

function isLogLevel(value: string | undefined): value is LogLevel {
  return value !== undefined && Object.prototype.hasOwnProperty.call(ORDER, value);
}

let current: LogLevel = isLogLevel(process.env.STRATA_LOG) ? process.env.STRATA_LOG : 'warn';

export function setLogLevel(level: LogLevel): void {
  current = level;
}

export function logLevel(): LogLevel {
  return current;
}

function emit(level: Exclude<LogLevel, 'silent'>, message: string, fields?: Record<string, unknown>): void {
  if (ORDER[level] > ORDER[current]) return;
  process.stderr.write(`strata ${level}: ${message}${fields ? ' ' + JSON.stringify(fields) : ''}\n`);
}

export const logger = {
  error: (message: string, fields?: Record<string, unknown>): void => emit('error', message, fields),
  warn: (message: string, fields?: Record<string, unknown>): void => emit('warn', message, fields),
  info: (message: string, fields?: Record<string, unknown>): void => emit('info', message, fields),
  debug: (message: string, fields?: Record<string, unknown>): void => emit('debug', message, fields),
  /** True when debug lines are written (to skip building costly fields otherwise). */
  get debugEnabled(): boolean {
    return current === 'debug';
  },
};
