/**
 * Counting the SDK's own retries. `openai` and `@anthropic-ai/sdk` retry inside `create()` (429, 5xx,
 * connection errors) and expose no attempt count on the result or the error. Every attempt, however, goes
 * through `client.buildRequest(options, { retryCount })` with the same options object the resource method
 * built from the caller's request options. So the patched `create` adds a counter under a private symbol
 * to a copy of the caller's options (object spread copies symbol keys, and every SDK layer spreads
 * options), and a patched `buildRequest` updates it. Calls we did not start carry no counter and are left
 * alone.
 */
const COUNTER = Symbol('modelwatch.attemptCounter');

export class AttemptCounter {
  /** Attempts started so far (0 until the SDK built the first request). */
  attempts = 0;

  /** Retries the SDK made (attempts after the first), or undefined when no attempt was seen. */
  get retryCount(): number | undefined {
    return this.attempts === 0 ? undefined : this.attempts - 1;
  }
}

type OptionsBag = Record<string | symbol, unknown>;

/**
 * The caller's request options plus the counter, as a new object (the caller's stays untouched). openai 7
 * also accepts a promise of options; that is chained rather than awaited so `create()` stays synchronous.
 */
export function withAttemptCounter(options: unknown, counter: AttemptCounter): unknown {
  if (options === undefined || options === null) return { [COUNTER]: counter };
  if (typeof (options as { then?: unknown }).then === 'function') {
    return Promise.resolve(options).then((resolved: unknown) => withAttemptCounter(resolved, counter));
  }
  if (typeof options === 'object') return { ...(options as OptionsBag), [COUNTER]: counter };
  return options;
}

/** The wrapper for `Client.prototype.buildRequest(options, { retryCount })` in both SDKs. */
export function patchBuildRequest<F extends (...args: never[]) => unknown>(original: F): F {
  const call = original as unknown as (this: unknown, options: unknown, meta: unknown) => unknown;
  // Named parameters rather than a rest array: this runs for every request the client makes, ours or not.
  function buildRequest(this: unknown, options: OptionsBag | null | undefined, meta: unknown): unknown {
    const counter = options?.[COUNTER];
    if (counter instanceof AttemptCounter) {
      const retryCount = (meta as { retryCount?: unknown } | undefined)?.retryCount;
      counter.attempts = (typeof retryCount === 'number' ? retryCount : counter.attempts) + 1;
    }
    // eslint-disable-next-line prefer-rest-params -- forwards exactly what the SDK passed, without a copy
    return arguments.length <= 2 ? call.call(this, options, meta) : Reflect.apply(call, this, arguments);
  }
  return buildRequest as unknown as F;
}
