/**
 * A status line on stderr: on a TTY one line redrawn in place (cleared before anything else is
 * printed to the same terminal, drawn again after); otherwise one plain line per update, so a log
 * file or a pipe gets a readable history.
 */
import * as readline from 'node:readline';

export class StatusLine {
  readonly #stream: NodeJS.WriteStream;
  readonly #inPlace: boolean;
  #shown = '';

  constructor(stream: NodeJS.WriteStream = process.stderr) {
    this.#stream = stream;
    this.#inPlace = stream.isTTY === true;
  }

  update(text: string): void {
    if (!this.#inPlace) {
      this.#stream.write(`${text}\n`);
      return;
    }
    const columns = this.#stream.columns ?? 0;
    this.#shown = columns > 1 && text.length >= columns ? `${text.slice(0, columns - 2)}…` : text;
    this.#erase();
    this.#stream.write(this.#shown);
  }

  /** Writes a line to `out` (stdout) without tearing the status line, which is drawn again after it. */
  println(out: NodeJS.WriteStream, line: string): void {
    if (this.#inPlace && this.#shown !== '') this.#erase();
    out.write(`${line}\n`);
    if (this.#inPlace && this.#shown !== '') this.#stream.write(this.#shown);
  }

  /** Leaves the terminal as it was (no half line after the process exits). */
  close(): void {
    if (this.#inPlace && this.#shown !== '') this.#erase();
    this.#shown = '';
  }

  #erase(): void {
    readline.clearLine(this.#stream, 0);
    readline.cursorTo(this.#stream, 0);
  }
}
