/**
 * `engine.validate()`: inconsistencies across the levels — L1 content that no longer matches its
 * file, index records of deleted files or with missing or corrupt entries, L3 results about files
 * that are gone. With `repair`, each is removed (and rebuilt on next use). Never throws for a finding.
 */
import * as fs from 'node:fs';
import type { AstPersistence } from '../ast/ast-persistence.js';
import type { ContentAccess } from '../content/content-access.js';
import type { ContentCache } from '../content/content-cache.js';
import { toAbsolute } from '../paths.js';
import type { ResultsCache } from '../results/results-cache.js';
import { REPORT_SCHEMA_VERSION } from '../warming/warm-report.js';

export interface ValidationFinding {
  readonly level: 'content' | 'ast' | 'results';
  /** Root-relative path. */
  readonly path: string;
  readonly problem: 'stale-content' | 'deleted-file' | 'missing-entry' | 'corrupt-entry' | 'orphan-result';
}

export interface ValidationReport {
  readonly schemaVersion: number;
  readonly root: string;
  readonly findings: readonly ValidationFinding[];
  /** Findings fixed (with `repair: true`). */
  readonly repaired: number;
}

/** The levels a validation looks at (L3 loaded from disk already). */
export interface ValidatedLevels {
  readonly root: string;
  readonly access: ContentAccess;
  readonly content: ContentCache;
  readonly persistence: AstPersistence | null;
  readonly results: ResultsCache;
}

export function validateLevels(levels: ValidatedLevels, repair: boolean): ValidationReport {
  const { root, persistence, results } = levels;
  const findings: ValidationFinding[] = [];
  for (const file of levels.access.staleEntries()) {
    findings.push({ level: 'content', path: file, problem: 'stale-content' });
    if (repair) levels.content.delete(file);
  }
  for (const finding of persistence?.validate(root, repair) ?? []) findings.push({ level: 'ast', ...finding });
  const gone = new Set([...results.paths()].filter((file) => !fs.existsSync(toAbsolute(root, file))));
  for (const file of gone) findings.push({ level: 'results', path: file, problem: 'orphan-result' });
  if (repair) {
    results.deletePaths(gone);
    persistence?.save();
  }
  return { schemaVersion: REPORT_SCHEMA_VERSION, root, findings, repaired: repair ? findings.length : 0 };
}
