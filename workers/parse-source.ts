/**
 * The parse step of a parse task: source text in, encoded AST + module references + syntax
 * diagnostics count out. A plain typed function: the worker entry point calls it, and so can the
 * coordinator in its own thread.
 */
import ts from 'typescript';
import type { ImportRecord } from '../shared/imports.js';
import type { ParseSettings, ParserIdentity } from '../shared/protocol.js';
import { scriptKindName, type ScriptKindName } from '../shared/script-kind.js';
import { encodeSourceFile, type PackOptions } from './ast-encoder.js';
import { exportSignature } from './export-signature.js';

/** What parsing one file yields. */
export interface ParsedSource {
  /** Encoded AST (shared/ast-format.ts). */
  readonly ast: Uint8Array;
  /** Module references in source order (shared/imports.ts). */
  readonly imports: ImportRecord[];
  /** Number of syntax diagnostics; a file with syntax errors is still a parsed file. */
  readonly diagnostics: number;
  readonly nodeCount: number;
  /** Hash of what the file exports (workers/export-signature.ts). */
  readonly signature: string;
  /** The AST's stored form when asked for and large enough (a scratch view: valid until the next parse), else null. */
  readonly packed: Uint8Array | null;
}

/** Language version as a parse setting (`'latest'`) or as TypeScript's own enum value. */
export type LanguageVersion = ParseSettings['languageVersion'] | ts.ScriptTarget;

/**
 * JSDoc parsing mode of the parse workers. `ParseNone` is the fastest mode, and it is exact for what
 * we produce: JSDoc nodes are not part of the encoded tree (`ts.forEachChild` does not visit them),
 * JSDoc diagnostics are kept apart from `parseDiagnostics`, `/// <reference>` directives come from
 * comment pragmas (not JSDoc), and the one NodeFlags bit JSDoc sets (`Deprecated`) is masked out of
 * encodings. Consequence: JSDoc-only module references in JavaScript files (`@import`, `@type
 * {import('m').T}`) are not extracted.
 */
const WORKER_JSDOC_PARSING_MODE = ts.JSDocParsingMode.ParseNone;

/** Identifies the parser; part of every L2 key. */
export function parserIdentity(): ParserIdentity {
  return { id: 'typescript', version: ts.version };
}

/** TypeScript's script kind for each script kind name of shared/script-kind.ts (the L2 key's). */
const SCRIPT_KIND_BY_NAME: Readonly<Record<ScriptKindName, ts.ScriptKind>> = {
  ts: ts.ScriptKind.TS,
  tsx: ts.ScriptKind.TSX,
  js: ts.ScriptKind.JS,
  jsx: ts.ScriptKind.JSX,
};

/**
 * Script kind from a path's extension (case-insensitive), through the same mapping the L2 key uses:
 * `.ts .mts .cts` (declaration files included) → TS, `.tsx` → TSX, `.js .mjs .cjs` → JS,
 * `.jsx` → JSX. Anything else is parsed as TS.
 */
export function scriptKindOf(path: string): ts.ScriptKind {
  return SCRIPT_KIND_BY_NAME[scriptKindName(path)];
}

function targetOf(languageVersion: LanguageVersion): ts.ScriptTarget {
  return languageVersion === 'latest' ? ts.ScriptTarget.Latest : languageVersion;
}

/** `parseDiagnostics` is internal to TypeScript: every SourceFile from the parser carries it. */
type SourceFileWithParseDiagnostics = ts.SourceFile & { readonly parseDiagnostics?: readonly ts.DiagnosticWithLocation[] };

/** Number of syntax errors TypeScript's parser reported for `sf`. */
export function parseDiagnosticsCount(sf: ts.SourceFile): number {
  return (sf as SourceFileWithParseDiagnostics).parseDiagnostics?.length ?? 0;
}

/**
 * Parses `text` as the file at `path` and encodes it. Never throws for syntax errors (they are
 * counted); a RangeError from TypeScript's recursive parser on absurdly deep nesting propagates.
 */
export function parseSource(path: string, text: string, languageVersion: LanguageVersion = 'latest', options: PackOptions = {}): ParsedSource {
  const sf = ts.createSourceFile(
    path,
    text,
    { languageVersion: targetOf(languageVersion), jsDocParsingMode: WORKER_JSDOC_PARSING_MODE },
    /*setParentNodes*/ false,
    scriptKindOf(path),
  );
  const { ast, imports, nodeCount, packed } = encodeSourceFile(sf, options);
  return { ast, imports, diagnostics: parseDiagnosticsCount(sf), nodeCount, signature: exportSignature(sf), packed };
}

/**
 * A real `ts.SourceFile` for callers that need TypeScript's node API: parent pointers set and JSDoc
 * parsed (TypeScript's default mode), same script kind and language version as {@link parseSource},
 * so its nodes have the same kinds and positions as the encoded AST.
 */
export function toSourceFile(path: string, text: string, languageVersion: LanguageVersion = 'latest'): ts.SourceFile {
  return ts.createSourceFile(path, text, { languageVersion: targetOf(languageVersion) }, /*setParentNodes*/ true, scriptKindOf(path));
}
