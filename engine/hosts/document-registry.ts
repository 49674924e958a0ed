/**
 * `engine.documentRegistry()`: TypeScript's own DocumentRegistry (versions, reference counts,
 * incremental re-parses on edits all stay TypeScript's) with the SourceFile tier behind it as its
 * document cache, so a LanguageService started later — or beside another — gets the SourceFiles
 * already parsed instead of parsing them again. TypeScript offers that cache (`externalCache`) on
 * its internal registry constructor; where a TypeScript lacks it, the plain registry is returned.
 */
import type * as ts from 'typescript';
import type { SourceFiles } from '../sourcefiles/source-files.js';

interface ExternalDocumentCache {
  getDocument(key: string, path: string): ts.SourceFile | undefined;
  setDocument(key: string, path: string, sourceFile: ts.SourceFile): void;
}

type WithInternalRegistry = typeof ts & {
  readonly createDocumentRegistryInternal?: (useCaseSensitiveFileNames: boolean | undefined, currentDirectory: string | undefined, jsDocParsingMode: ts.JSDocParsingMode | undefined, externalCache: ExternalDocumentCache) => ts.DocumentRegistry;
};

export interface DocumentRegistryOptions {
  readonly useCaseSensitiveFileNames?: boolean;
  readonly currentDirectory?: string;
  readonly jsDocParsingMode?: ts.JSDocParsingMode;
}

export function strataDocumentRegistry(sourceFiles: SourceFiles, options: DocumentRegistryOptions = {}): ts.DocumentRegistry {
  const typescript = sourceFiles.typescript as WithInternalRegistry;
  const useCaseSensitive = options.useCaseSensitiveFileNames ?? typescript.sys.useCaseSensitiveFileNames;
  const create = typescript.createDocumentRegistryInternal;
  if (create === undefined) return typescript.createDocumentRegistry(useCaseSensitive, options.currentDirectory, options.jsDocParsingMode);
  // The bucket key names the compilation settings and implied format; the JSDoc mode is per registry.
  const mode = `${options.jsDocParsingMode ?? ''}`;
  let offered: string | null = null;
  const cache: ExternalDocumentCache = {
    getDocument(key, path) {
      const found = sourceFiles.registryEntry(`${key}|${mode}`, path);
      // TypeScript compares the text and, on a mismatch, parses and calls setDocument within this same call.
      offered = found === undefined ? null : `${key}\0${path}`;
      if (found !== undefined) queueMicrotask(() => (offered = null));
      return found;
    },
    setDocument(key, path, sourceFile) {
      sourceFiles.storeRegistryEntry(`${key}|${mode}`, path, sourceFile, offered === `${key}\0${path}`);
      offered = null;
    },
  };
  return create(useCaseSensitive, options.currentDirectory, options.jsDocParsingMode, cache);
}
