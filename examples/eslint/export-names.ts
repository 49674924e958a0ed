/**
 * What a JavaScript module exports, read from its syntax (TypeScript's parser, which reads JS):
 * ES module exports (`export …`, `export { a as b }`, `export * from` followed through the files it
 * names) and CommonJS ones (`exports.x =`, `module.exports.x =`, `module.exports = { … }`,
 * `Object.defineProperty(exports, 'x', …)`). `open` means more may be exported than we can see
 * (`module.exports = someValue`, `export =`, `export *` from a package): nothing is reported then.
 */
import ts from 'typescript';

export interface ExportNames {
  readonly names: ReadonlySet<string>;
  readonly open: boolean;
  /** CommonJS: `default` is the whole `module.exports`, always there. */
  readonly commonJs: boolean;
}

/** The exports of `sourceFile`; `reexported(specifier)` answers for `export * from` targets (null: not followed). */
export function exportNamesOf(sourceFile: ts.SourceFile, reexported: (specifier: string) => ExportNames | null): ExportNames {
  const names = new Set<string>();
  let open = false;
  let esm = false;
  let commonJs = false;
  for (const statement of sourceFile.statements) {
    if (ts.isExportDeclaration(statement)) {
      esm = true;
      const clause = statement.exportClause;
      if (clause === undefined) {
        const target = statement.moduleSpecifier !== undefined && ts.isStringLiteral(statement.moduleSpecifier) ? reexported(statement.moduleSpecifier.text) : null;
        if (target === null) open = true;
        else {
          for (const name of target.names) if (name !== 'default') names.add(name);
          open ||= target.open;
        }
      } else if (ts.isNamespaceExport(clause)) names.add(clause.name.text);
      else for (const element of clause.elements) names.add(element.name.text);
    } else if (ts.isExportAssignment(statement)) {
      esm = true;
      if (statement.isExportEquals === true) open = true;
      else names.add('default');
    } else if (hasExportModifier(statement)) {
      esm = true;
      for (const name of declaredNames(statement)) names.add(name);
    } else if (ts.isExpressionStatement(statement)) {
      const found = commonJsExport(statement.expression);
      if (found === null) continue;
      commonJs = true;
      if (found === 'open') open = true;
      else for (const name of found) names.add(name);
    }
  }
  return { names, open, commonJs: commonJs && !esm };
}

function hasExportModifier(statement: ts.Statement): boolean {
  return ts.canHaveModifiers(statement) && (ts.getModifiers(statement)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword) ?? false);
}

function declaredNames(statement: ts.Statement): string[] {
  const isDefault = ts.canHaveModifiers(statement) && (ts.getModifiers(statement)?.some((m) => m.kind === ts.SyntaxKind.DefaultKeyword) ?? false);
  if (isDefault) return ['default'];
  if (ts.isVariableStatement(statement)) return statement.declarationList.declarations.flatMap((d) => bindingNames(d.name));
  if ((ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement) || ts.isEnumDeclaration(statement)) && statement.name) return [statement.name.text];
  return [];
}

function bindingNames(name: ts.BindingName): string[] {
  if (ts.isIdentifier(name)) return [name.text];
  return name.elements.flatMap((element) => (ts.isOmittedExpression(element) ? [] : bindingNames(element.name)));
}

/** Names a CommonJS export statement adds, 'open' when it exports an opaque value, null when it is no export. */
function commonJsExport(expression: ts.Expression): string[] | 'open' | null {
  if (ts.isCallExpression(expression) && isDefineProperty(expression)) {
    const name = expression.arguments[1];
    return name !== undefined && ts.isStringLiteral(name) ? [name.text] : 'open';
  }
  if (!ts.isBinaryExpression(expression) || expression.operatorToken.kind !== ts.SyntaxKind.EqualsToken) return null;
  const target = expression.left;
  if (isModuleExports(target)) {
    const value = skipAssignments(expression.right);
    if (!ts.isObjectLiteralExpression(value)) return 'open';
    const names: string[] = [];
    for (const property of value.properties) {
      if (ts.isSpreadAssignment(property) || property.name === undefined || ts.isComputedPropertyName(property.name)) return 'open';
      names.push(property.name.getText());
    }
    return names;
  }
  if (ts.isPropertyAccessExpression(target) && (isExportsObject(target.expression) || isModuleExports(target.expression))) {
    const more = ts.isBinaryExpression(expression.right) ? commonJsExport(expression.right) : null;
    return [target.name.text, ...(Array.isArray(more) ? more : [])];
  }
  return null;
}

function skipAssignments(expression: ts.Expression): ts.Expression {
  let value = expression;
  while (ts.isBinaryExpression(value) && value.operatorToken.kind === ts.SyntaxKind.EqualsToken) value = value.right;
  return value;
}

function isExportsObject(expression: ts.Expression): boolean {
  return ts.isIdentifier(expression) && expression.text === 'exports';
}

function isModuleExports(expression: ts.Expression): boolean {
  return ts.isPropertyAccessExpression(expression) && ts.isIdentifier(expression.expression) && expression.expression.text === 'module' && expression.name.text === 'exports';
}

function isDefineProperty(call: ts.CallExpression): boolean {
  const callee = call.expression;
  const first = call.arguments[0];
  return ts.isPropertyAccessExpression(callee) && ts.isIdentifier(callee.expression) && callee.expression.text === 'Object' && callee.name.text === 'defineProperty' && first !== undefined && (isExportsObject(first) || isModuleExports(first));
}
