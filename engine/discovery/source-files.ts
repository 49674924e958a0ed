/**
 * Which files are source files: those whose name ends in one of {@link SOURCE_EXTENSIONS}
 * (declaration files included). The walk, the watcher, the graph and warm requests ask {@link isSourceFile}.
 */

/** File-name endings that make a source file. `.d.ts` and friends end in `.ts`, so they are included. */
export const SOURCE_EXTENSIONS = ['.ts', '.tsx', '.mts', '.cts', '.js', '.jsx', '.mjs', '.cjs'] as const;

export type SourceExtension = (typeof SOURCE_EXTENSIONS)[number];

const SOURCE_EXTENSION_SET: ReadonlySet<string> = new Set(SOURCE_EXTENSIONS);

/** Whether a file name (or path) names a source file. A dot-file such as `.ts` has no extension. */
export function isSourceFile(name: string): boolean {
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return false;
  const slash = name.lastIndexOf('/');
  if (dot <= slash + 1) return false;
  return SOURCE_EXTENSION_SET.has(name.slice(dot));
}
