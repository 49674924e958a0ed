/**
 * Which implementation an adapter in native-bindings/ runs: the prebuilt native addon, or the
 * pure-JS fallback that produces bit-identical output. Both backends read and write the same
 * formats, so a cache written under one is readable under the other.
 */
export type NativeBackend = 'native' | 'js';

/**
 * The user's request, from the `STRATA_NATIVE` environment variable:
 * - `'js'`: force the pure-JS fallback in every adapter (diagnosing a suspect native binary,
 *   platforms without prebuilt binaries, reproducing a fallback-only bug).
 * - `'auto'`: try the native addon, fall back to JS when it cannot be loaded.
 */
export type NativeMode = 'auto' | 'js';

/** Name of the environment variable that selects the {@link NativeMode}. */
export const NATIVE_MODE_ENV = 'STRATA_NATIVE';

/**
 * Parses a `STRATA_NATIVE` value. Case and surrounding spaces are ignored. Unset, empty, `auto`
 * and any unrecognised value mean `'auto'`: an environment typo must never disable the native
 * addons silently, and the fallbacks are bit-identical, so `'auto'` is always a safe reading.
 */
export function nativeModeFrom(value: string | undefined): NativeMode {
  return value?.trim().toLowerCase() === 'js' ? 'js' : 'auto';
}

/** True when `STRATA_NATIVE=js` asks every adapter to skip its native addon. Read at call time. */
export function forcedJsFallback(): boolean {
  return nativeModeFrom(process.env[NATIVE_MODE_ENV]) === 'js';
}

/** Why an adapter runs its JS fallback; `undefined` when the native addon is live. */
export type FallbackReason = string | undefined;

/** Describes a failed native load for a {@link FallbackReason}, keeping the cause's message. */
export function describeLoadFailure(moduleName: string, error: unknown): string {
  // Not `instanceof Error`: an error thrown while loading may come from another realm (jest).
  const message =
    typeof error === 'object' && error !== null && 'message' in error ? String(error.message) : String(error);
  return `${moduleName} could not be loaded: ${message}`;
}

/** The {@link FallbackReason} used when `STRATA_NATIVE=js` forced the fallback. */
export const FORCED_FALLBACK_REASON = `forced by ${NATIVE_MODE_ENV}=js`;
