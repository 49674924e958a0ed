/** Exit codes of the CLI (DESIGN.md). */
export const EXIT_OK = 0;
export const EXIT_FATAL = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERRUPTED = 130;
