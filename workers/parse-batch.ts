/**
 * The worker's job as plain typed functions: the Piscina entry (workers/worker.ts) calls them, and
 * the coordinator can call them in its own thread (one-core machines, unit tests).
 * Content is read straight from the SharedArrayBuffer slab the coordinator filled.
 */
import { assertNever } from '../shared/errors.js';
import type { FileOutcome, ParseBatchRequest, ParseBatchResponse, WorkerRequest, WorkerResponse } from '../shared/protocol.js';
import { COMPRESS_MIN_BYTES, encodeAstEntry } from '../shared/ast-entry.js';
import { decodeSourceText } from '../shared/source-text.js';
import { parserIdentity, parseSource } from './parse-source.js';

/** A tiny file parsed once at warm-up so the parser's hot paths are compiled before real work. */
const WARMUP_SOURCE = "import { a } from './a';\nexport const f = (x: number): string => `${x}` + a;\nclass C<T> { m(): T | undefined { return undefined; } }\n";

export function handleRequest(request: WorkerRequest): WorkerResponse {
  switch (request.type) {
    case 'parse-batch':
      return parseBatch(request);
    case 'warmup': {
      const started = performance.now();
      parseSource('warmup.ts', WARMUP_SOURCE);
      return { type: 'warmup-done', parser: parserIdentity(), loadMs: performance.now() - started };
    }
    default:
      return assertNever(request, 'worker request');
  }
}

/**
 * Parses every file of the batch. One file's exception fails that file only. Each encoded AST owns
 * its ArrayBuffer exactly, so the response is transferred, not copied, and L2 accounts it exactly.
 */
export function parseBatch(request: ParseBatchRequest): ParseBatchResponse {
  const started = performance.now();
  const outcomes: FileOutcome[] = [];
  for (const file of request.files) {
    try {
      const text = decodeSourceText(file.buffer, file.offset, file.length);
      // Only ASTs that encodeAstEntry compresses are packed: smaller ones are stored as they are.
      const parsed = parseSource(file.path, text, 'latest', request.entryCodec === 'lz4-block-v1' ? { packFrom: COMPRESS_MIN_BYTES } : {});
      const entry = request.entryCodec === null ? null : encodeAstEntry(file.key, parsed, request.entryCodec);
      outcomes.push({ type: 'parsed', id: file.id, ast: parsed.ast, imports: parsed.imports, diagnostics: parsed.diagnostics, nodeCount: parsed.nodeCount, signature: parsed.signature, entry });
    } catch (error) {
      outcomes.push({ type: 'failed', id: file.id, code: 'EWORKER', message: `parser threw: ${(error as Error).message}` });
    }
  }
  return { type: 'parse-batch-result', outcomes, busyMs: performance.now() - started };
}

/** The ArrayBuffers a response can transfer instead of copying. */
export function transferablesOf(response: WorkerResponse): ArrayBuffer[] {
  if (response.type !== 'parse-batch-result') return [];
  const buffers: ArrayBuffer[] = [];
  const add = (bytes: Uint8Array | null): void => {
    // Only a buffer the view covers whole may move: transferring detaches all of it.
    if (bytes !== null && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && Object.prototype.toString.call(bytes.buffer) === '[object ArrayBuffer]') buffers.push(bytes.buffer as ArrayBuffer);
  };
  for (const outcome of response.outcomes) {
    if (outcome.type !== 'parsed') continue;
    add(outcome.ast);
    add(outcome.entry);
  }
  return buffers;
}
