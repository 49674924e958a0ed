/**
 * The structural check of an encoded AST's columns (shared/ast-format.ts; engine/ast/encoded-ast.ts)
 * in Strata's own addon when it is live, else undefined and the caller runs its JS pass. It only says
 * where: the JS pass, run again on a failure, says what is wrong. Over every persisted AST of a real
 * corpus (bench/ast-loads.ts) it took 23 ms against 80 ms for the JS pass.
 *
 * Measured and not kept: unpacking packed ASTs in C (15.0 ms against 16.7 ms in JS for 2,111
 * entries, 51.6 MB: both are bound by writing the widened columns).
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

