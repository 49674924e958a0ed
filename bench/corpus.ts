/**
 * A deterministic generated monorepo: workspace packages, a tsconfig with paths, realistic file
 * sizes (1–12 KB, skewed small) and import fan-out within and across packages.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { prng } from './seeded-random.js';

export interface CorpusOptions {
  readonly files: number;
  readonly packages?: number;
  readonly seed?: number;
}


export function generateMonorepo(root: string, options: CorpusOptions): string {
  const random = prng(options.seed ?? 42);
  const packages = options.packages ?? Math.max(1, Math.round(options.files / 200));
  fs.mkdirSync(root, { recursive: true });
  const paths: Record<string, string[]> = {};
  for (let p = 0; p < packages; p++) paths[`@corpus/pkg-${p}`] = [`packages/pkg-${p}/src/index.ts`];
  fs.writeFileSync(path.join(root, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, module: 'esnext', moduleResolution: 'bundler', paths } }, null, 2));
  fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: 'corpus', private: true, workspaces: ['packages/*'] }, null, 2));
  const perPackage = Math.ceil(options.files / packages);
  let written = 0;
  for (let p = 0; p < packages && written < options.files; p++) {
    const dir = path.join(root, 'packages', `pkg-${p}`, 'src');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(root, 'packages', `pkg-${p}`, 'package.json'), JSON.stringify({ name: `@corpus/pkg-${p}`, main: 'src/index.ts' }));
    const count = Math.min(perPackage, options.files - written);
    for (let f = 0; f < count; f++) {
      const ext = f === 0 ? 'ts' : random() < 0.15 ? 'tsx' : random() < 0.25 ? 'js' : 'ts';
      const name = f === 0 ? 'index' : `module-${f}`;
      fs.writeFileSync(path.join(dir, `${name}.${ext}`), moduleSource(random, p, f, count, packages, ext));
      written++;
    }
  }
  return root;
}

function moduleSource(random: () => number, pkg: number, index: number, count: number, packages: number, ext: string): string {
  const lines: string[] = [];
  const fanOut = Math.floor(random() * 6);
  for (let i = 0; i < fanOut; i++) {
    const target = Math.floor(random() * count);
    if (target === 0 || target === index) continue;
    lines.push(ext === 'js' ? `const dep${i} = require('./module-${target}');` : `import { value${target} as dep${i} } from './module-${target}';`);
  }
  if (random() < 0.3 && packages > 1) lines.push(`import type { Shape } from '@corpus/pkg-${Math.floor(random() * packages)}';`);
  if (ext === 'tsx') lines.push("import * as React from 'react';");
  const size = 1000 + Math.floor(random() ** 2 * 11_000);
  let body = '';
  let n = 0;
  while (body.length < size) {
    n++;
    body +=
      ext === 'js'
        ? `function helper${n}(input, options) {\n  const result = [];\n  for (let i = 0; i < input.length; i++) {\n    if (options && options.skip === i) continue;\n    result.push({ index: i, value: input[i] * ${n}, label: \`item-\${i}\` });\n  }\n  return result;\n}\n\n`
        : `export interface Record${n} {\n  readonly id: number;\n  name: string;\n  tags?: readonly string[];\n}\n\nexport function transform${n}<T extends Record${n}>(items: readonly T[], limit = ${n}): T[] {\n  return items.filter((item) => item.id % ${n + 1} !== 0).slice(0, limit).map((item) => ({ ...item, name: item.name.toUpperCase() }));\n}\n\n`;
  }
  if (ext === 'tsx') body += `export const View${index} = (props: { title: string }) => <section className="view"><h1>{props.title}</h1></section>;\n`;
  lines.push(body);
  lines.push(ext === 'js' ? `module.exports = { value${index}: ${index} };` : `export const value${index} = ${index};\nexport type Shape = { kind: 'shape-${pkg}' };`);
  return lines.join('\n') + '\n';
}
