/** A command line the CLI cannot run (exit 2); the message names the flag and what it accepts. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
