/**
 * Dependency warming: from a set of entry files, warm each file and its resolved in-root
 * dependencies breadth-first down to a depth (the profile's `warmDepth`: 3 in development, 1 in
 * CI), several files at a time so the pool stays busy. Best effort: a file that cannot be read or
 * parsed is reported, never thrown; the time limit and the signal stop it cleanly.
 */
import { isStrataError, type FileFailure, type FileFailureCode, type FileSkip } from '../../shared/errors.js';
import type { ImportRecord } from '../../shared/imports.js';
import { isSourceFile } from '../discovery/source-files.js';
import type { ResolvedImport } from '../graph/module-resolver.js';
import { toRootPath } from '../paths.js';
import type { StopReason } from './warm-report.js';

export interface EntryWarmSource {
  readonly root: string;
  astWithOrigin(file: string): Promise<{ readonly result: { readonly path: string; readonly size: number; readonly imports: readonly ImportRecord[]; readonly diagnostics: number }; readonly from: 'memory' | 'disk' | 'remote' | 'parsed' }>;
  resolve(fromFile: string, record: ImportRecord): ResolvedImport;
}

export interface EntryWarmOptions {
  readonly depth: number;
  /** Files warmed at once (the pool batches what arrives together). */
  readonly concurrency: number;
  readonly deadline: number;
  readonly signal?: AbortSignal;
}

export interface EntryWarmOutcome {
  /** Every file reached, root-relative. */
  readonly files: readonly string[];
  readonly parsed: number;
  readonly fromMemory: number;
  readonly fromDisk: number;
  /** Files parsed with syntax errors. */
  readonly parseErrors: number;
  /** Source bytes of the files warmed. */
  readonly bytes: number;
  readonly failed: readonly FileFailure[];
  readonly skipped: readonly FileSkip[];
  /** The deepest level warmed (0 = the entries themselves). */
  readonly depthReached: number;
  readonly stoppedBy: StopReason;
}

const FAILURE_CODES: ReadonlySet<string> = new Set<FileFailureCode>(['EACCES', 'ENOENT', 'EISDIR', 'EIO', 'EINVALIDUTF8', 'EWORKER']);

export async function warmFromEntries(source: EntryWarmSource, entries: readonly string[], options: EntryWarmOptions): Promise<EntryWarmOutcome> {
  const seen = new Set<string>();
  const files: string[] = [];
  const failed: FileFailure[] = [];
  const skipped: FileSkip[] = [];
  let parsed = 0;
  let fromMemory = 0;
  let fromDisk = 0;
  let parseErrors = 0;
  let bytes = 0;
  let depthReached = 0;
  let stoppedBy: StopReason = null;
  let frontier = entries.map((entry) => toRootPath(source.root, entry).relative).filter((file) => !seen.has(file) && seen.add(file));

  for (let depth = 0; depth <= options.depth && frontier.length > 0; depth++) {
    const next: string[] = [];
    const queue = [...frontier];
    const worker = async (): Promise<void> => {
      for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
        if (options.signal?.aborted) stoppedBy = 'interrupted';
        else if (performance.now() > options.deadline) stoppedBy = 'time-limit';
        if (stoppedBy !== null) return;
        files.push(file);
        try {
          const { result, from } = await source.astWithOrigin(file);
          bytes += result.size;
          if (result.diagnostics > 0) parseErrors++;
          if (from === 'parsed') parsed++;
          else if (from === 'disk' || from === 'remote') fromDisk++; // below memory, not parsed (the remote's own counters: report.remote)
          else fromMemory++;
          if (depth === options.depth) continue;
          for (const record of result.imports) {
            const { resolved, external } = source.resolve(result.path, record);
            if (resolved === null || external || !isSourceFile(resolved)) continue;
            const relative = toRootPath(source.root, resolved).relative;
            if (!seen.has(relative)) {
              seen.add(relative);
              next.push(relative);
            }
          }
        } catch (error) {
          const code = isStrataError(error) ? error.code : 'EIO';
          if (code === 'ENOTCACHED') skipped.push({ path: file, reason: (error as Error).message.includes('too-large') ? 'too-large' : 'binary' });
          else failed.push({ path: file, code: FAILURE_CODES.has(code) ? (code as FileFailureCode) : 'EIO', message: (error as Error).message });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, worker));
    if (stoppedBy !== null) break;
    depthReached = depth;
    frontier = next.sort();
  }
  return { files, parsed, fromMemory, fromDisk, parseErrors, bytes, failed, skipped, depthReached, stoppedBy };
}
