/**
 * `strata/import-exists`: a rule that reads other files, as eslint-plugin-import's `import/named`
 * does. Each named import (`import { a } from './x'`) and each destructured `require`
 * (`const { a } = require('./x')`) must name something the target module exports. The rule itself
 * only asks `lookup`: Strata's lint answers it from the dependency graph and the SourceFile tier;
 * a plain ESLint run answers it from the disk (disk-lookup.ts).
 */
import type { Rule } from 'eslint';
import type { ExportNames } from './export-names.js';

/** The exports of the module `specifier` names from `file`; null when it is not a file of the tree. */
export type ExportLookup = (file: string, specifier: string) => ExportNames | null;

export const RULE_NAME = 'import-exists';

export function importExistsRule(lookup: ExportLookup): Rule.RuleModule {
  return {
    meta: { type: 'problem', docs: { description: 'Named imports and destructured requires name an export of the target module' }, schema: [] },
    create(context) {
      const check = (node: Rule.Node, specifier: string, name: string, esm: boolean): void => {
        const target = lookup(context.filename, specifier);
        if (target === null || target.open) return;
        if (esm && target.commonJs) return; // Node's ESM/CJS interop: a CJS module's names are not statically known to ESM
        if (target.names.has(name) || (name === 'default' && target.commonJs)) return;
        context.report({ node, message: `'${name}' is not exported by '${specifier}'.` });
      };
      return {
        ImportDeclaration(node) {
          const specifier = node.source.value;
          if (typeof specifier !== 'string' || !specifier.startsWith('.')) return;
          for (const part of node.specifiers) {
            if (part.type === 'ImportSpecifier') check(part as Rule.Node, specifier, part.imported.type === 'Identifier' ? part.imported.name : String(part.imported.value), true);
            else if (part.type === 'ImportDefaultSpecifier') check(part as Rule.Node, specifier, 'default', true);
          }
        },
        VariableDeclarator(node) {
          const init = node.init;
          if (node.id.type !== 'ObjectPattern' || init?.type !== 'CallExpression' || init.callee.type !== 'Identifier' || init.callee.name !== 'require') return;
          const argument = init.arguments[0];
          if (argument?.type !== 'Literal' || typeof argument.value !== 'string' || !argument.value.startsWith('.')) return;
          for (const property of node.id.properties) {
            if (property.type !== 'Property' || property.computed || property.key.type !== 'Identifier') continue;
            check(property as Rule.Node, argument.value, property.key.name, false);
          }
        },
      };
    },
  };
}
