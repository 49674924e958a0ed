/**
 * `engine.compilerHost(options)`: TypeScript's own compiler host (`ts.createCompilerHost`) with its
 * reads answered by Strata: `getSourceFile` from the SourceFile tier (so a second Program over the
 * same files parses only what changed), `readFile` from L1 inside the root. Everything else keeps
 * TypeScript's behaviour exactly, so a Program reports the diagnostics TypeScript's host reports:
 * a missing file is `undefined`, an unreadable one reports through `onError` and parses as empty.
 */
import * as path from 'node:path';
import type * as ts from 'typescript';
import type { SourceFiles } from '../sourcefiles/source-files.js';
import { FileSystemView } from './file-system-view.js';

export interface CompilerHostOptions {
  /** Parent pointers on every SourceFile (TypeScript's host default: false). */
  readonly setParentNodes?: boolean;
}

export function strataCompilerHost(sourceFiles: SourceFiles, compilerOptions: ts.CompilerOptions, options: CompilerHostOptions = {}): ts.CompilerHost {
  const typescript = sourceFiles.typescript;
  const setParentNodes = options.setParentNodes ?? false;
  const host = typescript.createCompilerHost(compilerOptions, setParentNodes);
  const cwd = host.getCurrentDirectory();
  const view = new FileSystemView(sourceFiles, host);
  host.getSourceFile = (fileName, languageVersionOrOptions, onError, shouldCreateNewSourceFile) => {
    const sourceOptions = typeof languageVersionOrOptions === 'object' ? languageVersionOrOptions : { languageVersion: languageVersionOrOptions };
    const absolute = path.resolve(cwd, fileName);
    const settings = {
      languageVersion: sourceOptions.languageVersion,
      impliedNodeFormat: sourceOptions.impliedNodeFormat,
      jsDocParsingMode: sourceOptions.jsDocParsingMode,
      setParentNodes,
      compilerOptions,
    };
    try {
      return sourceFiles.get(absolute, settings, { fresh: shouldCreateNewSourceFile === true, fileName });
    } catch (error) {
      // TypeScript's host: the read error goes to onError and the file parses as empty text.
      onError?.((error as Error).message);
      return typescript.createSourceFile(fileName, '', languageVersionOrOptions, setParentNodes);
    }
  };
  host.readFile = (fileName) => view.readFile(path.resolve(cwd, fileName));
  host.fileExists = (fileName) => view.fileExists(path.resolve(cwd, fileName));
  host.directoryExists = (directoryName) => view.directoryExists(path.resolve(cwd, directoryName));
  host.getDirectories = (directoryName) => view.getDirectories(path.resolve(cwd, directoryName));
  host.realpath = (fileName) => view.realpath(fileName);
  return host;
}
