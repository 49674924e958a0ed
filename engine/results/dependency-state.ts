/**
 * What a file's L3 results may depend on, as one digest: each resolved in-root dependency with its
 * export signature, and through re-exports (`export … from`) what those re-export in turn,
 * cycle-safe. A dependency that is not source (JSON, CSS) counts by its content hash.
 */
import { xxh64String } from '../../native-bindings/hash.js';
import type { ImportRecord } from '../../shared/imports.js';
import { isSourceFile } from '../discovery/source-files.js';
import type { ResolvedImport } from '../graph/module-resolver.js';
import { toRootPath } from '../paths.js';

export interface DependencyState {
  readonly digest: string;
  /** Root-relative dependencies the digest covers. */
  readonly files: readonly string[];
}

export interface DependencyStateSource {
  readonly root: string;
  resolve(fromFile: string, record: ImportRecord): ResolvedImport;
  ast(file: string): Promise<{ readonly path: string; readonly imports: readonly ImportRecord[]; readonly signature: string }>;
  content(file: string): Promise<Buffer>;
}

export async function dependencyState(file: string, source: DependencyStateSource): Promise<DependencyState> {
  const parts: string[] = [];
  const files = new Set<string>();
  const visit = async (from: string, reexportsOnly: boolean, seen: Set<string>): Promise<void> => {
    const ast = await source.ast(from);
    for (const record of ast.imports) {
      if (reexportsOnly && record.kind !== 'export') continue;
      const { resolved, external } = source.resolve(ast.path, record);
      if (resolved === null || external) {
        parts.push(`${record.specifier}>${external ? 'external' : 'unresolved'}`);
        continue;
      }
      const relative = toRootPath(source.root, resolved).relative;
      if (seen.has(relative)) continue;
      seen.add(relative);
      files.add(relative);
      parts.push(`${relative}=${await signatureOf(resolved, source)}`);
      // What a dependency re-exports (`export … from`) is part of what this file sees through it.
      if (isSourceFile(resolved)) await visit(resolved, true, seen);
    }
  };
  await visit(file, false, new Set([toRootPath(source.root, file).relative]));
  parts.sort();
  return { digest: xxh64String(parts.join('\n')), files: [...files] };
}

/** A dependency's export signature; for a non-source file, its content hash; a marker when unreadable. */
async function signatureOf(file: string, source: DependencyStateSource): Promise<string> {
  if (isSourceFile(file)) {
    try {
      return (await source.ast(file)).signature;
    } catch (error) {
      return `error:${(error as { code?: string }).code ?? 'unknown'}`;
    }
  }
  try {
    return xxh64String((await source.content(file)).toString('latin1'));
  } catch {
    return 'missing';
  }
}
