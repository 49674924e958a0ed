/**
 * The rules both lints run (Strata's and the plain ESLint baseline): ESLint core rules, which read
 * one file each, and `strata/import-exists`, which reads the files a file imports.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Linter, Rule } from 'eslint';
import { RULE_NAME } from './import-exists-rule.js';

export const LINT_RULES: Linter.RulesRecord = {
  'no-unused-vars': 'warn',
  'no-undef': 'error',
  'no-redeclare': 'error',
  'no-dupe-keys': 'error',
  'no-unreachable': 'error',
  'no-debugger': 'error',
  eqeqeq: ['warn', 'smart'],
  'prefer-const': 'warn',
  [`strata/${RULE_NAME}`]: 'error',
};

const NODE_GLOBALS = [
  'require', 'module', 'exports', '__dirname', '__filename', 'process', 'console', 'Buffer', 'global', 'globalThis',
  'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'clearImmediate', 'queueMicrotask',
  'URL', 'URLSearchParams', 'AbortController', 'AbortSignal', 'TextEncoder', 'TextDecoder', 'structuredClone', 'performance', 'fetch',
];
export const GLOBALS: Linter.Globals = Object.fromEntries(NODE_GLOBALS.map((name) => [name, 'readonly' as const]));

/** Node's rule: `.mjs` is ESM, `.cjs` CommonJS, `.js` whatever the nearest package.json's `type` says. */
export function sourceTypeOf(file: string): 'module' | 'commonjs' {
  if (file.endsWith('.mjs')) return 'module';
  if (file.endsWith('.cjs')) return 'commonjs';
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    try {
      const type = (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { type?: unknown }).type;
      return type === 'module' ? 'module' : 'commonjs';
    } catch {
      if (path.dirname(dir) === dir) return 'commonjs';
    }
  }
}

/** One file's flat config. */
export function lintConfig(rule: Rule.RuleModule, sourceType: 'module' | 'commonjs'): Linter.Config {
  return { languageOptions: { ecmaVersion: 'latest', sourceType, globals: GLOBALS }, plugins: { strata: { rules: { [RULE_NAME]: rule } } }, rules: LINT_RULES };
}
