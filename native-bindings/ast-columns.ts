/**
 * The structural check of an encoded AST's columns (shared/ast-format.ts; engine/ast/encoded-ast.ts)
 * in Strata's own addon when it is live, else undefined and the caller runs its JS pass. It only says
 * where: the JS pass, run again on a failure, says what is wrong. Over every persisted AST of a real
 * corpus (bench/ast-loads.ts) it took 23 ms against 80 ms for the JS pass.
 *
 * Loading a large persisted AST (lz4 of its packed columns, shared/packed-ast.ts) runs in one call
 * here: decompression into a scratch buffer that stays in the CPU's caches, widening and this check
 * fused into one pass (unpacking alone in C had gained nothing: 15.0 against 16.7 ms for 2,111
 * entries, both bound by writing the widened columns into fresh memory).
 */
import type { NativeBackend } from './backend.js';
import { strataAddon } from './strata-addon.js';

/** Which implementation runs ('js': the functions answer undefined, the caller's JS runs). */
export const astColumnsBackend: NativeBackend = strataAddon.addon === undefined ? 'js' : 'native';

/**
 * The first node whose span or subtree is wrong, -1 when none is; undefined without the addon.
 * `bytes` must be 4-aligned; the three offsets are those of the pos, end and subtreeEnd columns.
 */
export function firstInvalidNode(bytes: Uint8Array, nodeCount: number, textLength: number, posOffset: number, endOffset: number, subtreeEndOffset: number): number | undefined {
  return strataAddon.addon?.validateAstColumns(bytes, nodeCount, textLength, posOffset, endOffset, subtreeEndOffset);
}


/**
 * The encoded AST held by an `lz4-block-v1` payload of packed columns (shared/packed-ast.ts) whose
 * size prefix must be `packedLength`: decompressed, widened, and its columns checked as
 * {@link firstInvalidNode} checks them, in one native call, into a Uint8Array over its own
 * ArrayBuffer. Undefined without the addon, and for anything it refuses: the caller's JS path (lz4,
 * unpack, EncodedAst.decode) then runs and says what is wrong.
 */
export function lz4UnpackAst(payload: Uint8Array, packedLength: number): Uint8Array | undefined {
  const result = strataAddon.addon?.lz4UnpackAst(payload, packedLength);
  return typeof result === 'object' ? result : undefined;
}
