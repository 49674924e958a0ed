/**
 * The plain ESLint baseline, for tests and benchmarks: the `eslint` command with the same rules and
 * the disk-reading `strata/import-exists`, through an eslint.config.cjs written into the tree.
 * Its JSON output is turned into strata-lint's line format so the two compare directly.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** `eslint/bin` is not in the package's exports map: found beside its package.json. */
const ESLINT_BIN = path.join(path.dirname(require.resolve('eslint/package.json')), 'bin', 'eslint.js');

/** Writes `<root>/eslint.config.cjs` (the same rules and globals as strata-lint); answers its path. */
export function writeBaselineConfig(root: string): string {
  const here = JSON.stringify(__dirname);
  const config = `// Written by examples/eslint/eslint-baseline.ts: the rules strata-lint runs, for plain ESLint.
const path = require('node:path');
const { plugin } = require(path.join(${here}, 'disk-lookup.js'));
const { LINT_RULES, GLOBALS } = require(path.join(${here}, 'lint-config.js'));
const options = (sourceType) => ({ languageOptions: { ecmaVersion: 'latest', sourceType, globals: GLOBALS }, plugins: { strata: plugin }, rules: LINT_RULES });
module.exports = [
  { files: ['**/*.js', '**/*.cjs'], ...options('commonjs') },
  { files: ['**/*.mjs'], ...options('module') },
];
`;
  const file = path.join(root, 'eslint.config.cjs');
  fs.writeFileSync(file, config);
  return file;
}

interface EslintFileResult {
  readonly filePath: string;
  readonly messages: ReadonlyArray<{ line: number; column: number; severity: number; ruleId: string | null; message: string }>;
}

/** Runs `eslint [--cache] --format json .` in `root`; answers strata-lint's lines and the exit status. */
export function runEslint(root: string, options: { cacheLocation?: string } = {}): { output: string; status: number | null } {
  const args = [ESLINT_BIN, '--format', 'json', ...(options.cacheLocation === undefined ? [] : ['--cache', '--cache-location', options.cacheLocation]), '.'];
  const result = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (result.status === 2 || result.stdout === '') throw new Error(`eslint failed: ${result.stderr}`);
  const files = (JSON.parse(result.stdout) as EslintFileResult[]).sort((a, b) => (a.filePath < b.filePath ? -1 : a.filePath > b.filePath ? 1 : 0));
  const lines: string[] = [];
  for (const file of files) {
    for (const m of file.messages) lines.push(`${path.relative(root, file.filePath)}:${m.line}:${m.column}: ${m.severity === 2 ? 'error' : 'warning'} ${m.message} (${m.ruleId ?? 'parse'})`);
  }
  return { output: lines.length === 0 ? '' : `${lines.join('\n')}\n`, status: result.status };
}
