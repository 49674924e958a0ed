/**
 * Native addons behind small adapters, each with a bit-compatible pure-JS fallback
 * (STYLE.md lesson 9). Set `STRATA_NATIVE=js` to force every fallback.
 */
import type { NativeBackend } from './backend.js';
import { hashBackend } from './hash.js';
import { lz4Backend } from './lz4.js';
import { astColumnsBackend } from './ast-columns.js';
import { statBatchBackend } from './stat-batch.js';

export { forcedJsFallback, nativeModeFrom, NATIVE_MODE_ENV } from './backend.js';
export type { FallbackReason, NativeBackend, NativeMode } from './backend.js';
export { hashBackend, hashFallbackReason, xxh64, xxh64Hex, xxh64Js, xxh64String, XXH64_OF_EMPTY } from './hash.js';
export {
  DEFAULT_MAX_OUTPUT_BYTES,
  LZ4_CODEC_ID,
  lz4Backend,
  lz4Compress,
  lz4CompressJs,
  lz4Decompress,
  lz4DecompressJs,
  lz4FallbackReason,
} from './lz4.js';
export type { CodecId } from './lz4.js';
export { astColumnsBackend, firstInvalidNode } from './ast-columns.js';
export { lstatMany, lstatManyJs, statBatchBackend, statBatchFallbackReason, STAT_FIELDS } from './stat-batch.js';

/** Which backend each adapter runs, for diagnostics and benchmark headers. */
export function nativeBackends(): { hash: NativeBackend; lz4: NativeBackend; stat: NativeBackend; astColumns: NativeBackend } {
  return { hash: hashBackend, lz4: lz4Backend, stat: statBatchBackend, astColumns: astColumnsBackend };
}
