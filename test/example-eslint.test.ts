/**
 * examples/eslint, end to end: strata-lint reports exactly what the `eslint` command reports with
 * the same rules, from L3 on a second run, and after an edit that changes an export it lints the
 * importers again — where `eslint --cache` keeps their stale results.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runEslint, writeBaselineConfig } from '../examples/eslint/eslint-baseline.js';
import { lint } from '../examples/eslint/lint.js';
import { makeTree, type TempTree } from './helpers/temp-tree.js';

const REPO = path.join(__dirname, '..', '..');
let tree: TempTree;
afterEach(() => tree.remove());

const cacheDir = (): string => path.join(tree.root, '.strata-cache');

describe('examples/eslint', () => {
  test('an export removed from a module: its importers are linted again (eslint --cache keeps them stale)', async () => {
    tree = makeTree({
      'lib/util.js': 'exports.parse = (s) => s.trim();\nexports.format = (s) => `[${s}]`;\n',
      'lib/app.js': "const { parse, format } = require('./util');\nmodule.exports = (s) => format(parse(s));\n",
      'lib/other.js': "const { parse } = require('./util.js');\nmodule.exports = parse;\n",
      'esm/names.mjs': 'export const one = 1;\nexport * from "./more.mjs";\n',
      'esm/more.mjs': 'export const two = 2;\n',
      'esm/use.mjs': "import { one, two } from './names.mjs';\nexport default one + two;\n",
      'esm/alone.mjs': 'let unused = 1;\nexport const fine = 2;\n',
    });
    writeBaselineConfig(tree.root);
    // Not ESLint's default .eslintcache: a run without --cache deletes that file.
    const eslintCache = path.join(tree.root, '.eslint-results-cache');

    const first = await lint(tree.root, { cacheDir: cacheDir() });
    expect(first.output).toBe(runEslint(tree.root).output);
    expect(first.output).toContain("esm/alone.mjs:1:5: warning 'unused' is assigned a value but never used");
    expect(first.exitCode).toBe(0);
    expect(first.linted.length).toBe(first.files);
    runEslint(tree.root, { cacheLocation: eslintCache }); // fills ESLint's own cache

    const again = await lint(tree.root, { cacheDir: cacheDir() });
    expect(again).toMatchObject({ output: first.output, linted: [] });

    // `format` is no longer exported: app.js is now wrong though its text did not change.
    fs.writeFileSync(path.join(tree.root, 'lib/util.js'), 'exports.parse = (s) => s.trim();\n');
    // `two` moves out of the re-exported module: use.mjs breaks through the `export *` chain.
    fs.writeFileSync(path.join(tree.root, 'esm/more.mjs'), 'export const three = 3;\n');
    const afterEdit = await lint(tree.root, { cacheDir: cacheDir() });
    expect(afterEdit.linted.sort()).toEqual(['esm/more.mjs', 'esm/names.mjs', 'esm/use.mjs', 'lib/app.js', 'lib/other.js', 'lib/util.js']);
    expect(afterEdit.output).toContain("lib/app.js:1:16: error 'format' is not exported by './util'. (strata/import-exists)");
    expect(afterEdit.output).toContain("esm/use.mjs:1:15: error 'two' is not exported by './names.mjs'. (strata/import-exists)");
    expect(afterEdit.exitCode).toBe(1);
    expect(afterEdit.output).toBe(runEslint(tree.root).output); // what a full ESLint run says

    const cached = runEslint(tree.root, { cacheLocation: eslintCache });
    expect(cached.output).not.toContain("'format' is not exported"); // ESLint's cache re-linted util.js only
    expect(cached.output).not.toContain("'two' is not exported");
  });

  test("commander's lib (real code): the eslint command's report, then the same from L3", async () => {
    tree = makeTree({});
    fs.cpSync(path.join(REPO, 'node_modules', 'commander', 'lib'), path.join(tree.root, 'lib'), { recursive: true });
    writeBaselineConfig(tree.root);
    const first = await lint(tree.root, { cacheDir: cacheDir() });
    const reference = runEslint(tree.root);
    expect(first.output).toBe(reference.output);
    expect(first.exitCode).toBe(reference.status);
    expect(first.output.length).toBeGreaterThan(0);
    const again = await lint(tree.root, { cacheDir: cacheDir() });
    expect(again).toMatchObject({ output: first.output, linted: [] });
  });
});
