/**
 * examples/typecheck, end to end in new processes: its output and exit status equal `tsc --noEmit`'s,
 * and a second run rechecks only the edited file and the files whose imports' shapes changed.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeTree, type TempTree } from './helpers/temp-tree.js';

const REPO = path.join(__dirname, '..', '..');
const EXAMPLE = path.join(REPO, 'dist', 'examples', 'typecheck', 'typecheck.js');
const TSC = path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');

interface Run {
  readonly stdout: string;
  readonly status: number | null;
  readonly checked: number;
  readonly reused: number;
}

function strata(tree: TempTree): Run {
  const result = spawnSync(process.execPath, [EXAMPLE, '-p', 'tsconfig.json', '--cache-dir', path.join(tree.root, '.cache')], { cwd: tree.root, encoding: 'utf8' });
  const summary = /(\d+) files checked, (\d+) from L3/.exec(result.stderr);
  if (summary === null) throw new Error(`no summary: ${result.stderr}`);
  return { stdout: result.stdout, status: result.status, checked: Number(summary[1]), reused: Number(summary[2]) };
}

function tsc(tree: TempTree): { stdout: string; status: number | null } {
  const result = spawnSync(process.execPath, [TSC, '--noEmit', '-p', 'tsconfig.json'], { cwd: tree.root, encoding: 'utf8' });
  return { stdout: result.stdout, status: result.status };
}

function expectSameAsTsc(tree: TempTree, run: Run): void {
  const reference = tsc(tree);
  expect(run.stdout).toBe(reference.stdout);
  expect(run.status).toBe(reference.status);
}

describe('examples/typecheck', () => {
  let tree: TempTree;
  afterEach(() => tree.remove());

  test('a chain of imports: body edits recheck one file, shape edits recheck the files that reach it', () => {
    tree = makeTree({
      'tsconfig.json': JSON.stringify({ compilerOptions: { strict: true, noEmit: true, skipLibCheck: true, types: [] }, include: ['src'] }),
      'src/c.ts': 'export function c() {\n  return helper();\n}\nfunction helper() {\n  return 1;\n}\n',
      'src/b.ts': "import { c } from './c';\nexport const b = { thing: c() };\n",
      'src/a.ts': "import { b } from './b';\nconst n: number = b.thing;\nexport const s: string = String(n);\n",
      'src/other.ts': "export const unrelated: string = 'x';\n",
      'src/cycle-1.ts': "import { two } from './cycle-2';\nexport const one = 1;\nexport const sum: number = two + one;\n",
      'src/cycle-2.ts': "import { one } from './cycle-1';\nexport const two = one + 1;\n",
    });
    const first = strata(tree);
    expectSameAsTsc(tree, first);
    expect(first).toMatchObject({ status: 0, checked: 6, reused: 0 });

    const again = strata(tree);
    expect(again).toMatchObject({ stdout: first.stdout, checked: 0, reused: 6 });

    // A body edit that keeps c's declaration output: c alone.
    fs.writeFileSync(path.join(tree.root, 'src/c.ts'), 'export function c() {\n  return helper() + 0;\n}\nfunction helper() {\n  return 1;\n}\n');
    const bodyEdit = strata(tree);
    expectSameAsTsc(tree, bodyEdit);
    expect(bodyEdit).toMatchObject({ checked: 1, reused: 5 });

    // A non-exported helper's type flows into c's inferred return type: c, b and a (a reaches c through b).
    fs.writeFileSync(path.join(tree.root, 'src/c.ts'), "export function c() {\n  return helper();\n}\nfunction helper() {\n  return 'one';\n}\n");
    const shapeEdit = strata(tree);
    expectSameAsTsc(tree, shapeEdit);
    expect(shapeEdit.status).toBe(2);
    expect(shapeEdit.stdout).toContain('src/a.ts(2,7): error TS2322');
    expect(shapeEdit).toMatchObject({ checked: 3, reused: 3 });
  });

  test("piscina's sources as a project (real code, real errors): tsc's output, then the same from L3", () => {
    const src = path.join(REPO, 'node_modules', 'piscina', 'src');
    tree = makeTree({
      'tsconfig.json': JSON.stringify({
        compilerOptions: { strict: true, noEmit: true, target: 'es2022', module: 'node16', moduleResolution: 'node16', skipLibCheck: true, types: ['node'], typeRoots: [path.join(REPO, 'node_modules', '@types')] },
        include: ['src'],
      }),
    });
    fs.cpSync(src, path.join(tree.root, 'src'), { recursive: true });
    const first = strata(tree);
    expectSameAsTsc(tree, first);
    expect(first.stdout.split('\n').filter((line) => line.includes('error TS')).length).toBeGreaterThan(0);
    expect(first.checked).toBeGreaterThan(10);
    const again = strata(tree);
    expect(again).toMatchObject({ stdout: first.stdout, status: first.status, checked: 0, reused: first.checked });
  });

  test('a global script (no imports or exports): its errors and the globals it declares, from L3 while nothing changed', () => {
    tree = makeTree({
      'tsconfig.json': JSON.stringify({ compilerOptions: { strict: true, noEmit: true, skipLibCheck: true, types: [] }, include: ['src'] }),
      'src/globals.ts': 'declare var appName: string;\nconst oops: number = "no";\n',
      'src/use.ts': 'export const upper: string = appName.toUpperCase();\n',
    });
    const first = strata(tree);
    expectSameAsTsc(tree, first);
    expect(first.stdout).toContain('src/globals.ts(2,7): error TS2322');
    const again = strata(tree);
    expect(again).toMatchObject({ stdout: first.stdout, status: 2, checked: 0 });
    // The global's type changes: every module may see it differently, so use.ts is checked again.
    fs.writeFileSync(path.join(tree.root, 'src/globals.ts'), 'declare var appName: number;\nconst oops: number = "no";\n');
    const edited = strata(tree);
    expectSameAsTsc(tree, edited);
    expect(edited.stdout).toContain('src/use.ts(1,38): error TS2339');
    expect(edited.checked).toBe(1);
  });

  test('a syntax error reports as tsc does (syntax only)', () => {
    tree = makeTree({
      'tsconfig.json': JSON.stringify({ compilerOptions: { strict: true, noEmit: true, types: [] }, include: ['src'] }),
      'src/ok.ts': 'export const n: string = 1;\n',
      'src/broken.ts': 'export function (\n',
    });
    const run = strata(tree);
    expectSameAsTsc(tree, run);
    expect(run.stdout).toContain('src/broken.ts(1,17): error TS1003');
    expect(run.stdout).not.toContain('src/ok.ts'); // semantic errors wait until the syntax is clean
    expect(run.checked).toBe(0);
  });
});
