/**
 * The file-system questions a TypeScript host asks, answered through Strata where that saves work
 * and exactly as TypeScript answers them otherwise. `readFile` inside the root comes from L1 (the
 * fingerprint-validated bytes warming already read); `getDirectories` remembers each directory's
 * answer while the directory's own stat (inode, mtime, ctime) holds and is not racy — an entry
 * added, removed or renamed changes the directory's mtime. `fileExists`, `directoryExists` and
 * `realpath` are one stat or realpath each, as in TypeScript: nothing cached can answer them with
 * fewer system calls and still see a file created a moment ago.
 */
import * as fs from 'node:fs';
import type * as ts from 'typescript';
import { isRacy, wallClockNs } from '../content/fingerprint.js';
import type { SourceFiles } from '../sourcefiles/source-files.js';

interface Listing {
  readonly ino: bigint;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
  readonly racy: boolean;
  readonly directories: string[];
}

/** Directories remembered at most; past it the memory starts over. */
const MAX_LISTINGS = 20_000;

export class FileSystemView {
  readonly #sourceFiles: SourceFiles;
  readonly #typescriptHost: ts.CompilerHost;
  readonly #listings = new Map<string, Listing>();

  /** `typescriptHost` is TypeScript's own host, read before Strata's answers replace its methods. */
  constructor(sourceFiles: SourceFiles, typescriptHost: ts.CompilerHost) {
    this.#sourceFiles = sourceFiles;
    const { readFile, getDirectories, realpath } = typescriptHost;
    this.#typescriptHost = { ...typescriptHost, readFile, getDirectories, realpath };
  }

  readFile(absolute: string): string | undefined {
    const source = this.#sourceFiles.source(absolute);
    return source === undefined ? undefined : source.load().text;
  }

  fileExists(absolute: string): boolean {
    return fs.statSync(absolute, { throwIfNoEntry: false })?.isFile() ?? false;
  }

  directoryExists(absolute: string): boolean {
    return fs.statSync(absolute, { throwIfNoEntry: false })?.isDirectory() ?? false;
  }

  getDirectories(absolute: string): string[] {
    let stats: fs.BigIntStats | undefined;
    try {
      stats = fs.statSync(absolute, { bigint: true, throwIfNoEntry: false });
    } catch {
      stats = undefined;
    }
    if (stats === undefined || !stats.isDirectory()) return this.#typescriptHost.getDirectories?.(absolute) ?? [];
    const known = this.#listings.get(absolute);
    if (known && !known.racy && known.ino === stats.ino && known.mtimeNs === stats.mtimeNs && known.ctimeNs === stats.ctimeNs) return [...known.directories];
    const directories = this.#typescriptHost.getDirectories?.(absolute) ?? [];
    if (this.#listings.size >= MAX_LISTINGS) this.#listings.clear();
    const fingerprint = { dev: stats.dev, ino: stats.ino, size: stats.size, mtimeNs: stats.mtimeNs, ctimeNs: stats.ctimeNs };
    this.#listings.set(absolute, { ino: stats.ino, mtimeNs: stats.mtimeNs, ctimeNs: stats.ctimeNs, racy: isRacy(fingerprint, wallClockNs()), directories });
    return [...directories];
  }

  realpath(fileName: string): string {
    return this.#typescriptHost.realpath?.(fileName) ?? fileName;
  }
}
