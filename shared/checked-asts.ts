/**
 * Encoded ASTs whose columns are known to be valid, by identity of their bytes: those the addon
 * widened and checked while loading a persisted entry (shared/ast-entry.ts), and those
 * EncodedAst.decode has checked once. Decoding such bytes again (every `engine.ast()` of an L2 hit
 * decodes its record) skips the linear pass; the header is still checked every time.
 *
 * Sound only because encoded AST bytes are never modified once decoded (EncodedAst's contract):
 * L2's records are its own buffers. A WeakSet, so the mark goes with the bytes.
 */
const checked = new WeakSet<Uint8Array>();

export function noteColumnsChecked(bytes: Uint8Array): void {
  checked.add(bytes);
}

export function columnsChecked(bytes: Uint8Array): boolean {
  return checked.has(bytes);
}
