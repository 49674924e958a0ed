/**
 * The one way file bytes become the text that is parsed and that AST positions refer to:
 * UTF-8, with a leading byte-order mark removed (as TypeScript's own `sys.readFile` does).
 */
const BOM = [0xef, 0xbb, 0xbf] as const;

export function decodeSourceText(buffer: ArrayBufferLike, offset: number, length: number): string {
  const bytes = new Uint8Array(buffer, offset, length);
  const skip = length >= 3 && bytes[0] === BOM[0] && bytes[1] === BOM[1] && bytes[2] === BOM[2] ? 3 : 0;
  return Buffer.from(buffer, offset + skip, length - skip).toString('utf8');
}
