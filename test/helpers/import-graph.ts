/**
 * The project's import graph, read from its TypeScript sources (every `import`, `export … from`,
 * `import type`, `require('./…')` and `import('./…')` with a relative specifier), and the layout
 * rules the architecture test checks on it (README, "Architecture"). Run it directly
 * (`node dist/test/helpers/import-graph.js`) for the report.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';

/** The folders holding the project's code, in the order data flows: later ones never import earlier ones (bench and test aside). */
export const CODE_DIRS = ['engine', 'workers', 'shared', 'native-bindings'] as const;
const ALL_DIRS = [...CODE_DIRS, 'bench', 'test'];
/** Files allowed to import the facade: the public index, the CLI, benchmarks and tests. */
const FACADE = 'engine/engine.ts';
/** The project's error vocabulary: imports nothing, so every folder may use it (a room of its own). */
const ERRORS = 'shared/errors.ts';
export const MAX_LOOSE_ENGINE_FILES = 8;
export const MAX_FUNCTION_LINES = 150;

export interface ImportGraph {
  /** Repo-relative `.ts` path → the repo-relative `.ts` files it imports. */
  readonly edges: ReadonlyMap<string, readonly string[]>;
}

function tsFilesUnder(root: string, dir: string): string[] {
  const found: string[] = [];
  const pending = [dir];
  while (pending.length > 0) {
    const current = pending.pop() as string;
    const full = path.join(root, current);
    if (!fs.existsSync(full)) continue;
    for (const entry of fs.readdirSync(full, { withFileTypes: true })) {
      const relative = `${current}/${entry.name}`;
      if (entry.isDirectory()) {
        if (relative !== 'bench/results' && entry.name !== 'node_modules') pending.push(relative);
      } else if (entry.name.endsWith('.ts')) found.push(relative);
    }
  }
  return found.sort();
}

/** Relative module specifiers of one source file, in order of appearance. */
export function relativeSpecifiers(sourceText: string, fileName = 'file.ts'): string[] {
  const source = ts.createSourceFile(fileName, sourceText, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const specifiers: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier !== undefined && ts.isStringLiteral(node.moduleSpecifier)) {
      specifiers.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.arguments.length >= 1 && ts.isStringLiteralLike(node.arguments[0] as ts.Expression)) {
      const isRequire = ts.isIdentifier(node.expression) && node.expression.text === 'require';
      if (isRequire || node.expression.kind === ts.SyntaxKind.ImportKeyword) specifiers.push((node.arguments[0] as ts.StringLiteralLike).text);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      specifiers.push(node.argument.literal.text);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference) && ts.isStringLiteral(node.moduleReference.expression)) {
      specifiers.push(node.moduleReference.expression.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return specifiers.filter((specifier) => specifier.startsWith('./') || specifier.startsWith('../'));
}

export function readImportGraph(root: string): ImportGraph {
  const edges = new Map<string, string[]>();
  for (const file of ALL_DIRS.flatMap((dir) => tsFilesUnder(root, dir))) {
    const targets = new Set<string>();
    for (const specifier of relativeSpecifiers(fs.readFileSync(path.join(root, file), 'utf8'), file)) {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier)).replace(/\.js$/, '.ts');
      targets.add(target);
    }
    edges.set(file, [...targets].sort());
  }
  return { edges };
}

/** Strongly connected components of more than one node (Tarjan), each sorted; none means no circle. */
export function circles(edges: ReadonlyMap<string, readonly string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const connect = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter);
    counter++;
    stack.push(node);
    onStack.add(node);
    for (const next of edges.get(node) ?? []) {
      if (!edges.has(next)) continue;
      if (!index.has(next)) {
        connect(next);
        low.set(node, Math.min(low.get(node) as number, low.get(next) as number));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node) as number, index.get(next) as number));
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop() as string;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || (edges.get(node) ?? []).includes(node)) found.push(component.sort());
    }
  };
  for (const node of edges.keys()) if (!index.has(node)) connect(node);
  return found;
}

/** The room a file of engine/ lives in: its first folder below engine/ (`engine/ast`), or the file itself when loose. */
export function roomOf(file: string): string {
  if (file === ERRORS) return file;
  const parts = file.split('/');
  if (parts[0] !== 'engine') return parts[0] as string;
  return parts.length > 2 ? `engine/${parts[1]}` : file;
}

/** The graph between rooms (engine's folders and loose files, and the other top folders); self-edges dropped. */
export function roomGraph(graph: ImportGraph): Map<string, string[]> {
  const rooms = new Map<string, Set<string>>();
  for (const [file, targets] of graph.edges) {
    const from = roomOf(file);
    const set = rooms.get(from) ?? new Set<string>();
    rooms.set(from, set);
    for (const target of targets) if (roomOf(target) !== from) set.add(roomOf(target));
  }
  return new Map([...rooms].map(([room, targets]) => [room, [...targets].sort()]));
}

/** Imports that run against the flow: a part importing the facade, or a lower folder importing a higher one. */
export function upwardImports(graph: ImportGraph): string[] {
  const found: string[] = [];
  for (const [file, targets] of graph.edges) {
    const top = file.split('/')[0] as string;
    const rank = (CODE_DIRS as readonly string[]).indexOf(top);
    for (const target of targets) {
      const targetRank = (CODE_DIRS as readonly string[]).indexOf(target.split('/')[0] as string);
      if (rank >= 0 && targetRank >= 0 && targetRank < rank && target !== ERRORS) found.push(`${file} → ${target}`);
      const mayUseFacade = top === 'bench' || top === 'test' || file === 'engine/index.ts' || file.startsWith('engine/cli/');
      if (target === FACADE && !mayUseFacade) found.push(`${file} → ${target} (parts get a narrow interface, never the facade)`);
    }
  }
  return found;
}

/** Functions (declarations, methods, arrows, expressions) longer than `maxLines` in the code folders. */
export function longFunctions(root: string, maxLines = MAX_FUNCTION_LINES): string[] {
  const found: string[] = [];
  for (const file of CODE_DIRS.flatMap((dir) => tsFilesUnder(root, dir))) {
    const text = fs.readFileSync(path.join(root, file), 'utf8');
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
    const visit = (node: ts.Node): void => {
      if (ts.isFunctionLike(node) && 'body' in node && node.body !== undefined) {
        const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
        const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
        if (end - start + 1 > maxLines) {
          const name = node.name !== undefined && ts.isIdentifier(node.name) ? node.name.text : '(anonymous)';
          found.push(`${file}:${start + 1} ${name}: ${end - start + 1} lines`);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found;
}

/** engine/'s loose files (outside its folders). */
export function looseEngineFiles(root: string): string[] {
  return fs
    .readdirSync(path.join(root, 'engine'), { withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => `engine/${entry.name}`)
    .sort();
}

/** engine/'s folders. */
export function engineRooms(root: string): string[] {
  return fs
    .readdirSync(path.join(root, 'engine'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => `engine/${entry.name}`)
    .sort();
}

/**
 * What the rooms' opening READMEs leave out: for each engine folder without a README.md, the
 * folder; for each of its .ts files the README does not name (in backticks), `folder/file`.
 */
export function undescribedRoomFiles(root: string): string[] {
  const gaps: string[] = [];
  for (const room of engineRooms(root)) {
    const readme = path.join(root, room, 'README.md');
    if (!fs.existsSync(readme)) {
      gaps.push(room);
      continue;
    }
    const text = fs.readFileSync(readme, 'utf8');
    for (const name of fs.readdirSync(path.join(root, room))) {
      if (name.endsWith('.ts') && !text.includes(`\`${name}\``)) gaps.push(`${room}/${name}`);
    }
  }
  return gaps;
}

if (require.main === module) {
  const root = path.resolve(__dirname, '..', '..', '..');
  const graph = readImportGraph(root);
  const report = {
    fileCircles: circles(graph.edges),
    roomCircles: circles(roomGraph(graph)),
    upwardImports: upwardImports(graph),
    looseEngineFiles: looseEngineFiles(root),
    longFunctions: longFunctions(root),
    rooms: Object.fromEntries(roomGraph(graph)),
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}
