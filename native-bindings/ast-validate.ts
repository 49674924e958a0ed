/**
 * The structural check of an encoded AST's columns (engine/ast/encoded-ast.ts): Strata's own addon
 * when it is live (one C pass, ~1 ns a node), else the caller's JS pass. Only says where: the JS
 * pass, run again on a failure, says what is wrong.
 */
import type { NativeBackend } from './backend.js';
import { strataAddon } from './strata-addon.js';

/** Which implementation {@link firstInvalidNode} runs ('js': it answers undefined, the caller checks). */
export const astValidateBackend: NativeBackend = strataAddon.addon === undefined ? 'js' : 'native';

/**
 * The first node whose span or subtree is wrong, -1 when none is; undefined without the addon.
 * `bytes` must be 4-aligned; the three offsets are those of the pos, end and subtreeEnd columns.
 */
export function firstInvalidNode(bytes: Uint8Array, nodeCount: number, textLength: number, posOffset: number, endOffset: number, subtreeEndOffset: number): number | undefined {
  return strataAddon.addon?.validateAstColumns(bytes, nodeCount, textLength, posOffset, endOffset, subtreeEndOffset);
}
