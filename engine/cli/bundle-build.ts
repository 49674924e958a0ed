/**
 * Build step (`npm run build`, after tsc): writes the CLI bundle, {@link BUNDLE_FILE}, one script
 * holding every module of dist/ that the CLI reaches through literal relative `require`s, each as a
 * CommonJS wrapper function under its dist-relative path. main.ts runs `strata warm` from it through a
 * V8 code cache (code-cache.ts): one file read and one compile instead of ~50 module resolutions, file
 * reads and compiles (a restart of an unchanged tree is dominated by start-up).
 *
 * The bundle changes nothing in how modules behave: each keeps its own `__filename` and `__dirname`
 * (the dist paths: worker files and package.json are found as before), its `exports`/`module`, and a
 * `require` that answers bundled modules from the bundle and everything else (node: built-ins,
 * packages, computed paths) through Node's own `require` for that file. A module Node has already
 * loaded from dist/ (the entry loads a few itself) is taken from `require.cache`, never loaded twice.
 *
 * Dynamic `import('package')` calls become `__strataImport('package')`, a function main.ts passes in:
 * `import()` inside a `vm.Script` needs an experimental loader option on Node 20, in main.ts it does not.
 * Only bare package specifiers are rewritten (they resolve the same from main.ts); any other dynamic
 * import fails the build.
 *
 * `import * as fs from 'node:fs'` compiles to `__importStar(require("node:fs"))`, which copies every
 * export of the built-in onto a fresh object with a getter each (~100 for `fs`, in ~60 modules: ~10 ms
 * of a restart, cold). In the bundle the modules share one such object per built-in (a built-in's
 * exports are complete when it loads, and TypeScript forbids writing to a namespace import).
 *
 * Literal relative requires of bundled modules are resolved here, at build time (`__strataLoad(id)`).
 * Two self-contained packages the restart path loads, {@link VENDORED_PACKAGES} (no `require`, no
 * `__dirname`, checked), are bundled too: resolving `msgpackr/index-no-eval` through its exports map
 * and compiling its 123 KB took ~8 ms of a restart. They are the versions installed at build time
 * (`npm install` and `npm ci` rebuild through `prepare`).
 *
 * The text is kept ASCII (every other UTF-16 unit written as `\uXXXX`, which means the same inside
 * strings, regular expressions, identifiers and comments), so that it decodes as latin1 (a copy),
 * not UTF-8.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The bundle, relative to dist/. */
export const BUNDLE_FILE = 'engine/cli/strata-bundle.js';
/** Package specifiers bundled as they are required (self-contained files: checked by {@link vendoredPackages}). */
export const VENDORED_PACKAGES = ['ignore', 'msgpackr/index-no-eval'] as const;

/** The module the bundle is entered through, relative to dist/. */
export const BUNDLE_ENTRY = 'engine/cli/cli.js';

const RELATIVE_REQUIRE = /\brequire\((["'])(\.{1,2}\/[^"'\n]+)\1\)/g;
/** tsc's namespace import of a built-in. */
const BUILTIN_IMPORT_STAR = /\b__importStar\(require\("(node:[a-z_/]+)"\)\)/g;
/** `import('package')` (a bare specifier), not preceded by an identifier character or a dot. */
const PACKAGE_IMPORT = /(?<![\w$.])import\((["'])([^"'./][^"'\n]*)\1\)/g;
/** Any other `import(` followed by code-looking text: refused. */
const OTHER_IMPORT = /(?<![\w$.`])import\((?!["'][^"'./])(?![)'"`])/;

/** Runs inside the bundle: the module table's loader. `defs` is prepended; the function is the script's value. */
const LOADER = `
  const cache = Object.create(null);
  const builtins = Object.create(null);
  function __strataBuiltin(id, importStar) {
    const known = builtins[id];
    return known !== undefined ? known : (builtins[id] = importStar(nodeRequire(id)));
  }
  function resolveRelative(from, specifier) {
    const parts = from.split('/');
    parts.pop();
    for (const segment of specifier.split('/')) {
      if (segment === '..') parts.pop();
      else if (segment !== '.' && segment !== '') parts.push(segment);
    }
    return parts.join('/');
  }
  function load(id) {
    const known = cache[id];
    if (known !== undefined) return known.exports;
    if (id.startsWith('package:')) return loadPackage(id);
    const filename = distRoot + '/' + id;
    const loaded = nodeRequire.cache[filename];
    if (loaded !== undefined) return loaded.exports;
    const module = { id: filename, filename, exports: {}, loaded: false };
    cache[id] = module;
    defs[id].call(module.exports, module.exports, requireFor(id, filename), module, filename, filename.slice(0, filename.lastIndexOf('/')));
    module.loaded = true;
    return module.exports;
  }
  function loadPackage(id) {
    const module = { id, filename: id, exports: {}, loaded: false };
    cache[id] = module;
    defs[id].call(module.exports, module.exports, undefined, module, id, '.');
    module.loaded = true;
    return module.exports;
  }
  const __strataLoad = load;
  function requireFor(id, filename) {
    let node;
    const nodeRequireFor = () => (node === undefined ? (node = createRequire(filename)) : node);
    const require = (specifier) => {
      if (specifier.startsWith('./') || specifier.startsWith('../')) {
        const target = resolveRelative(id, specifier);
        if (Object.prototype.hasOwnProperty.call(defs, target)) return load(target);
      } else if (Object.prototype.hasOwnProperty.call(defs, 'package:' + specifier)) {
        return load('package:' + specifier);
      }
      return nodeRequireFor()(specifier);
    };
    require.resolve = (specifier, options) => nodeRequireFor().resolve(specifier, options);
    require.cache = nodeRequire.cache;
    require.main = nodeRequire.main;
    return require;
  }
  return load;
`;

/** Every dist-relative module reachable from `entry` through literal relative requires, entry first. */
export function collectModules(distRoot: string, entry: string): Map<string, string> {
  const modules = new Map<string, string>();
  const queue = [entry];
  while (queue.length > 0) {
    const id = queue.shift() as string;
    if (modules.has(id)) continue;
    const source = fs.readFileSync(path.join(distRoot, id), 'utf8');
    modules.set(id, source);
    for (const match of source.matchAll(RELATIVE_REQUIRE)) {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(id), match[2] as string));
      // Matches inside comments or strings may name files that do not exist: not modules.
      if (!target.startsWith('../') && target.endsWith('.js') && fs.existsSync(path.join(distRoot, target))) queue.push(target);
    }
  }
  return modules;
}

function asciiOnly(text: string): string {
  // `\` before a non-ASCII unit would turn its escape into a literal "u…": never emitted by tsc here, refused if it ever is.
  const escaped = /\\[^\x00-\x7f]/.exec(text);
  if (escaped !== null) throw new Error(`CLI bundle: a backslash before a non-ASCII character at offset ${escaped.index}; cannot keep the bundle ASCII`);
  return text.replace(/[^\x00-\x7f]/g, (unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * The vendored packages' sources, resolved from `distRoot` as its modules resolve them. Throws when
 * one is not self-contained (it could not run from the bundle unchanged).
 */
export function vendoredPackages(distRoot: string, specifiers: readonly string[] = VENDORED_PACKAGES): Map<string, string> {
  const packages = new Map<string, string>();
  for (const specifier of specifiers) {
    const file = require.resolve(specifier, { paths: [distRoot] });
    const source = fs.readFileSync(file, 'utf8');
    if (/\brequire\s*\(|__dirname|__filename|\bimport\s*\(/.test(source)) throw new Error(`CLI bundle: ${specifier} (${file}) is not self-contained; remove it from VENDORED_PACKAGES`);
    packages.set(specifier, source);
  }
  return packages;
}

/** The bundle's text: an expression whose value is `(nodeRequire, createRequire, distRoot, importPackage) => load`. */
export function bundleText(modules: ReadonlyMap<string, string>, packages: ReadonlyMap<string, string> = new Map()): string {
  const parts = ['(function (nodeRequire, createRequire, distRoot, __strataImport) {\n"use strict";\nconst defs = {\n'];
  for (const [specifier, source] of packages) {
    parts.push(`${JSON.stringify(`package:${specifier}`)}: function (exports, require, module, __filename, __dirname) {\n${source}\n},\n`);
  }
  for (const [id, source] of modules) {
    // A shebang is only valid at the start of a file.
    const body = (source.startsWith('#!') ? `//${source.slice(2)}` : source)
      .replace(PACKAGE_IMPORT, '__strataImport($1$2$1)')
      .replace(BUILTIN_IMPORT_STAR, '__strataBuiltin("$1", __importStar)')
      .replace(RELATIVE_REQUIRE, (call, _quote: string, specifier: string) => {
        const target = path.posix.normalize(path.posix.join(path.posix.dirname(id), specifier));
        return modules.has(target) ? `__strataLoad(${JSON.stringify(target)})` : call;
      });
    const other = OTHER_IMPORT.exec(body);
    if (other !== null) throw new Error(`CLI bundle: ${id} has a dynamic import the bundle cannot run: ${body.slice(other.index, other.index + 40)}`);
    parts.push(`${JSON.stringify(id)}: function (exports, require, module, __filename, __dirname) {\n${body}\n},\n`);
  }
  parts.push('};\n', LOADER, '})\n');
  return asciiOnly(parts.join(''));
}

/** Writes the bundle for a dist/ directory (atomically); returns its path and module count. */
export function writeBundle(distRoot: string): { file: string; modules: number; bytes: number } {
  const modules = collectModules(distRoot, BUNDLE_ENTRY);
  const text = bundleText(modules, vendoredPackages(distRoot));
  const file = path.join(distRoot, BUNDLE_FILE);
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, text);
  fs.renameSync(temporary, file);
  return { file, modules: modules.size, bytes: text.length };
}

if (require.main === module) {
  const written = writeBundle(path.resolve(__dirname, '..', '..'));
  process.stdout.write(`CLI bundle: ${written.modules} modules, ${written.bytes} bytes in ${path.relative(process.cwd(), written.file)}\n`);
}
