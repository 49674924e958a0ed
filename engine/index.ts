/** Strata's public library API. */
export { createEngine, Engine } from './engine.js';
export type { AstResult, ContentView, EngineOptions, EngineStats, WarmOptions } from './engine.js';
export { EncodedAst } from './ast/encoded-ast.js';
export { resolveOptions, PROFILES, PROFILE_NAMES } from './config/options.js';
export type { ProfileName, ResolvedOptions, StrataOptions, BudgetMode, ReadValidation } from './config/options.js';
export type { WarmReport, StopReason } from './warming/warm-report.js';
export type { LevelName, LevelSnapshot } from './level-counters.js';
export { StrataError, isStrataError } from '../shared/errors.js';
export type { StrataErrorCode, FileFailure, FileFailureCode, FileSkip, SkipReason } from '../shared/errors.js';
export type { ImportKind, ImportRecord } from '../shared/imports.js';
