/**
 * L2 keys are derived, never hand-assembled: one declared list of everything that changes the
 * encoded output (format version, parser id and version, parse settings, script kind) plus the
 * content hash. An entry that would decode differently after an upgrade gets a different key.
 */
import * as fs from 'node:fs';
import { AST_ENTRY_VERSION } from '../../shared/ast-entry-version.js';
import { AST_FORMAT_VERSION } from '../../shared/ast-format.js';
import type { ParseSettings, ParserIdentity } from '../../shared/protocol.js';
import type { ScriptKindName } from '../../shared/script-kind.js';
import { hashHex, xxh64String } from '../../native-bindings/hash.js';

export const DEFAULT_PARSE_SETTINGS: ParseSettings = Object.freeze({ languageVersion: 'latest', setParentNodes: false });

export type AstKey = string & { readonly __brand: 'AstKey' };

let cachedParser: ParserIdentity | undefined;

/** The installed parser's identity, read from its package.json so the parser itself is not loaded. */
export function installedParser(): ParserIdentity {
  if (cachedParser === undefined) {
    const manifest = JSON.parse(fs.readFileSync(require.resolve('typescript/package.json'), 'utf8')) as { version: string };
    cachedParser = { id: 'typescript', version: manifest.version };
  }
  return cachedParser;
}

/** Fixed-per-engine part of every key, computed once. */
export function astKeyPrefix(parser: ParserIdentity, settings: ParseSettings): string {
  return xxh64String(JSON.stringify([AST_FORMAT_VERSION, AST_ENTRY_VERSION, parser.id, parser.version, settings.languageVersion, settings.setParentNodes]));
}

export function astKey(prefix: string, scriptKind: ScriptKindName, contentHash: bigint): AstKey {
  return `${prefix}:${scriptKind}:${hashHex(contentHash)}` as AstKey;
}
