/**
 * `strata/import-exists` without Strata: resolve the specifier as Node does for relative paths and
 * read and parse the target from the disk on every run. This is the plugin the plain `eslint
 * --cache` baseline runs (`module.exports.plugin`, for an eslint.config.cjs).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';
import { exportNamesOf, type ExportNames } from './export-names.js';
import { importExistsRule, RULE_NAME, type ExportLookup } from './import-exists-rule.js';

const EXTENSIONS = ['', '.js', '.cjs', '.mjs', '/index.js'];

function resolve(file: string, specifier: string): string | null {
  const base = path.resolve(path.dirname(file), specifier);
  for (const extension of EXTENSIONS) {
    const candidate = base + extension;
    if (fs.statSync(candidate, { throwIfNoEntry: false })?.isFile() === true) return candidate;
  }
  return null;
}

export function diskLookup(): ExportLookup {
  const known = new Map<string, ExportNames>();
  const namesOf = (file: string, seen: Set<string>): ExportNames => {
    const cached = known.get(file);
    if (cached !== undefined) return cached;
    const sourceFile = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    seen.add(file);
    const names = exportNamesOf(sourceFile, (specifier) => {
      const target = resolve(file, specifier);
      return target === null || seen.has(target) ? null : namesOf(target, seen);
    });
    known.set(file, names);
    return names;
  };
  return (file, specifier) => {
    const target = resolve(file, specifier);
    return target === null ? null : namesOf(target, new Set());
  };
}

export const plugin = { rules: { [RULE_NAME]: importExistsRule(diskLookup()) } };
