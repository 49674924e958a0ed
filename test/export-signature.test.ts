import ts from 'typescript';
import { exportSignature } from '../workers/export-signature.js';

function signatureOf(text: string, file = 'm.ts'): string {
  return exportSignature(ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false));
}

describe('exportSignature', () => {
  const base = "import { x } from './x';\nconst helper = () => 1;\nexport function f(a: number): number { return a + helper(); }\n";

  it('ignores edits to what the file does not export', () => {
    expect(signatureOf(base.replace('() => 1', '() => 2'))).toBe(signatureOf(base));
    expect(signatureOf('// a comment\n' + base)).toBe(signatureOf(base));
    expect(signatureOf(base.replace("import { x } from './x';", "import { x, y } from './x';"))).toBe(signatureOf(base));
  });

  it('changes when an exported declaration changes, its body included', () => {
    expect(signatureOf(base.replace('a + helper()', 'a - helper()'))).not.toBe(signatureOf(base));
    expect(signatureOf(base + 'export const g = 1;\n')).not.toBe(signatureOf(base));
    expect(signatureOf(base + "export * from './y';\n")).not.toBe(signatureOf(base));
    expect(signatureOf(base + 'export default 3;\n')).not.toBe(signatureOf(base));
  });

  it('follows CommonJS exports in JavaScript', () => {
    const cjs = 'const internal = 1;\nmodule.exports.a = 1;\nexports.b = 2;\n';
    expect(signatureOf(cjs.replace('internal = 1', 'internal = 2'), 'm.js')).toBe(signatureOf(cjs, 'm.js'));
    expect(signatureOf(cjs.replace('exports.b = 2', 'exports.b = 3'), 'm.js')).not.toBe(signatureOf(cjs, 'm.js'));
  });

  it('treats a global script as exporting everything it declares', () => {
    const script = 'declare const version: string;\nfunction globalHelper() {}\n';
    expect(signatureOf(script.replace('globalHelper', 'otherHelper'), 'g.d.ts')).not.toBe(signatureOf(script, 'g.d.ts'));
  });
});
