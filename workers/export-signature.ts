/**
 * A file's export signature: a hash of what the file exposes to its importers. When an edit leaves it
 * unchanged (a non-exported helper, a comment between statements, an import reordered), the results
 * of the file's dependents stay valid (early cutoff, L3).
 *
 * What counts, conservatively: the full text of every top-level statement that exports (an `export`
 * modifier, `export … from`, `export =`, `export default`), ambient `declare module` / `declare
 * global` blocks, and CommonJS `module.exports` / `exports.x` assignments. Bodies of exported
 * functions are included: an analyzer that infers types through them must see their edits. A file
 * with no module syntax at all is a global script: everything it declares is visible, so its whole
 * text is the signature.
 */
import ts from 'typescript';
import { xxh64String } from '../native-bindings/hash.js';

export function exportSignature(sf: ts.SourceFile): string {
  const parts: string[] = [];
  let moduleSyntax = false;
  for (const statement of sf.statements) {
    if (ts.isImportDeclaration(statement) || ts.isImportEqualsDeclaration(statement)) {
      moduleSyntax = true;
      continue;
    }
    if (isExporting(statement)) {
      moduleSyntax = true;
      parts.push(statement.getText(sf));
    } else if (isAmbientScope(statement) || isCommonJsExport(statement)) {
      parts.push(statement.getText(sf));
    }
  }
  return moduleSyntax || parts.length > 0 ? xxh64String(parts.join('\n')) : xxh64String(sf.text);
}

function isExporting(statement: ts.Statement): boolean {
  if (ts.isExportDeclaration(statement) || ts.isExportAssignment(statement)) return true;
  if (!ts.canHaveModifiers(statement)) return false;
  return ts.getModifiers(statement)?.some((modifier) => modifier.kind === ts.SyntaxKind.ExportKeyword) === true;
}

function isAmbientScope(statement: ts.Statement): boolean {
  return ts.isModuleDeclaration(statement) && (ts.getModifiers(statement)?.some((modifier) => modifier.kind === ts.SyntaxKind.DeclareKeyword) === true || (statement.flags & ts.NodeFlags.GlobalAugmentation) !== 0);
}

/** `module.exports = …`, `module.exports.x = …`, `exports.x = …`. */
function isCommonJsExport(statement: ts.Statement): boolean {
  if (!ts.isExpressionStatement(statement) || !ts.isBinaryExpression(statement.expression)) return false;
  if (statement.expression.operatorToken.kind !== ts.SyntaxKind.EqualsToken) return false;
  let target: ts.Expression = statement.expression.left;
  while (ts.isPropertyAccessExpression(target) || ts.isElementAccessExpression(target)) {
    const object = target.expression;
    if (ts.isIdentifier(object) && object.text === 'exports') return true;
    if (ts.isIdentifier(object) && object.text === 'module' && ts.isPropertyAccessExpression(target) && target.name.text === 'exports') return true;
    target = object;
  }
  return false;
}
