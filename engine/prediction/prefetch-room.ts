/**
 * When prefetching may load a predicted file: only into space below the levels' pressure lines
 * and well below the memory limit, so a prediction never evicts what a caller asked for.
 */

/** L2 has no thresholds of its own: prefetching stops at this share of its budget, so it never evicts. */
export const PREFETCH_MAX_AST_FILL = 0.8;

export interface PrefetchLevels {
  readonly content: { readonly usedBytes: number; readonly budget: number };
  readonly asts: { readonly bytes: number; readonly size: number; readonly budget: number };
  readonly limits: { readonly contentPressureThreshold: number; readonly astMaxEntries: number };
  /** Whether the process is near the memory limit (the governor's degrade line). */
  nearMemoryLimit(): boolean;
}

export function roomToPrefetch({ content, asts, limits, nearMemoryLimit }: PrefetchLevels): boolean {
  if (content.usedBytes >= content.budget * limits.contentPressureThreshold) return false;
  if (asts.bytes >= asts.budget * PREFETCH_MAX_AST_FILL || asts.size >= limits.astMaxEntries * PREFETCH_MAX_AST_FILL) return false;
  return !nearMemoryLimit();
}
