/**
 * Every message between the coordinator and the parse workers. One discriminated union each way;
 * workers dispatch with an exhaustive switch. No `any` crosses the thread boundary.
 */
import type { CodecId } from '../native-bindings/lz4.js';
import type { ImportRecord } from './imports.js';

/** Settings that change the parser's output. All of them go into the L2 key (engine/keys.ts). */
export interface ParseSettings {
  /** TypeScript's `languageVersion` for createSourceFile. */
  readonly languageVersion: 'latest';
  /** Parent pointers are never needed by the encoder; fixed so the key says so. */
  readonly setParentNodes: false;
}

/** One file's content, as a range of a SharedArrayBuffer slab (read without a copy). */
export interface SlabFileRef {
  /** Coordinator-assigned id, echoed back in the outcome. */
  readonly id: number;
  /** Root-relative path with `/` separators; the extension picks the script kind. */
  readonly path: string;
  readonly buffer: SharedArrayBuffer;
  readonly offset: number;
  readonly length: number;
  /** The L2 key the result will be stored under (written into the persisted entry). */
  readonly key: string;
}

export interface ParseBatchRequest {
  readonly type: 'parse-batch';
  readonly settings: ParseSettings;
  readonly files: readonly SlabFileRef[];
  /** When set, each parsed file also comes back as a persisted entry written with this codec. */
  readonly entryCodec: CodecId | null;
}

/** Loads the parser so the first real batch does not pay for it (sent while discovery runs). */
export interface WarmupRequest {
  readonly type: 'warmup';
}

export type WorkerRequest = ParseBatchRequest | WarmupRequest;

export interface ParsedOutcome {
  readonly type: 'parsed';
  readonly id: number;
  /** Encoded AST (shared/ast-format.ts). */
  readonly ast: Uint8Array;
  readonly imports: readonly ImportRecord[];
  /** Number of syntax diagnostics; > 0 is still a parsed result. */
  readonly diagnostics: number;
  readonly nodeCount: number;
  /** Hash of what the file exports: unchanged → dependents' results stay valid. */
  readonly signature: string;
  /** The persisted entry (shared/ast-entry.ts), compressed and checksummed here, off the coordinator. */
  readonly entry: Uint8Array | null;
}

export interface FailedOutcome {
  readonly type: 'failed';
  readonly id: number;
  readonly code: 'EINVALIDUTF8' | 'EWORKER';
  readonly message: string;
}

export type FileOutcome = ParsedOutcome | FailedOutcome;

export interface ParseBatchResponse {
  readonly type: 'parse-batch-result';
  readonly outcomes: readonly FileOutcome[];
  /** Milliseconds the worker spent on the batch (for utilisation metrics). */
  readonly busyMs: number;
}

export interface WarmupResponse {
  readonly type: 'warmup-done';
  readonly parser: ParserIdentity;
  readonly loadMs: number;
  /** How the worker loaded TypeScript through its V8 code cache; absent in the coordinator's thread. */
  readonly codeCache?: CodeCacheOutcome;
}

/** 'rejected': the cache file did not verify (or V8 refused it) and was rewritten. */
export type CodeCacheOutcome = 'hit' | 'miss' | 'rejected' | 'off';

export type WorkerResponse = ParseBatchResponse | WarmupResponse;

/** Identifies the parser that produced an AST; part of every L2 key. */
export interface ParserIdentity {
  readonly id: 'typescript';
  readonly version: string;
}
