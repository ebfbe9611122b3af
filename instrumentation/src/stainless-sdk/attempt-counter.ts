/**
 * Counting the SDK's own retries. `openai` and `@anthropic-ai/sdk` retry inside `create()` (429, 5xx,
 * connection errors) and expose no attempt count on the result or the error. Every attempt, however, goes
 * through `client.buildRequest(options, { retryCount })`, and a patched `buildRequest` finds the call it
 * belongs to in one of two ways:
 *  - through the active context: `create()` runs the SDK inside the call's context, which a context manager
 *    (NodeSDK and register() install AsyncLocalStorage's) carries to every attempt. Only retries look it up:
 *    the first attempt is implied (such a span records 0 retries even if the call failed before its first
 *    request), so nothing is paid on the caller's path. Adding a private symbol to a copy of the options
 *    cost ~5 µs per call over real HTTP, and the context lookup ~3 µs (cold caches: instrumented-call.ts);
 *  - without a working context manager, the patched `create` adds the counter under a private symbol to a
 *    copy of the caller's options (object spread copies symbol keys, and every SDK layer spreads options).
 * Which one is used is probed off the caller's path, when a span is finished (refreshAttemptTracking);
 * until the first probe the options carry the counter. Requests we did not start (other methods, other
 * clients' calls) find no counter and are left alone.
 */
import { context, createContextKey, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { recordedCallOf } from '../llm-call.js';

const COUNTER = Symbol('modelwatch.attemptCounter');

/** What the patched `buildRequest` updates: the call's observer. */
export interface AttemptCounter {
  /** Attempts seen so far (0 until the SDK built the first request, or, counted in context, a retry). */
  attempts: number;
  /**
   * The call's attempts are found through the active context, where only retries are looked up: the first
   * attempt is not seen (the lookup would cost µs on every call's path), so no attempt seen means none
   * retried. Else (counter in the options) every attempt is seen.
   */
  countedInContext: boolean;
}

/** True once a probe showed the active context reaches the SDK's attempts: no counter in the options. */
let trackedByContext = false;
const PROBE_CONTEXT = ROOT_CONTEXT.setValue(createContextKey('modelwatch.contextProbe'), true);
const probeIsActive = (): boolean => context.active() === PROBE_CONTEXT;

/** Whether calls can leave their request options alone (the active context finds their counter). */
export function attemptsTrackedByContext(): boolean {
  return trackedByContext;
}

/** Probes the global context manager; called when a span is finished, off the caller's path. */
export function refreshAttemptTracking(): void {
  try {
    trackedByContext = context.with(PROBE_CONTEXT, probeIsActive);
  } catch {
    trackedByContext = false;
  }
}

/** The counter of the call whose context is active: its span is the active span. */
function counterOfActiveContext(): AttemptCounter | undefined {
  const call = recordedCallOf(trace.getSpan(context.active())) as Partial<AttemptCounter> | undefined;
  return typeof call?.attempts === 'number' ? (call as AttemptCounter) : undefined;
}

/**
 * Retries the SDK made (attempts after the first); undefined when the counter saw every attempt and saw
 * none (the call failed before its first request).
 */
export function retryCountOf(counter: AttemptCounter): number | undefined {
  if (counter.attempts > 0) return counter.attempts - 1;
  return counter.countedInContext ? 0 : undefined;
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
    const retryCount = (meta as { retryCount?: unknown } | undefined)?.retryCount;
    // Only withAttemptCounter writes under the module's private symbol: whatever is there is a counter.
    let counter = options?.[COUNTER] as AttemptCounter | undefined;
    if (counter === undefined && typeof retryCount === 'number' && retryCount > 0 && trackedByContext) {
      // A retry of a call counted in context (a call that carries no counter could be anyone's request).
      const inContext = counterOfActiveContext();
      if (inContext?.countedInContext === true) counter = inContext;
    }
    if (counter !== undefined) {
      counter.attempts = (typeof retryCount === 'number' ? retryCount : counter.attempts) + 1;
    }
    // eslint-disable-next-line prefer-rest-params -- forwards exactly what the SDK passed, without a copy
    return arguments.length <= 2 ? call.call(this, options, meta) : Reflect.apply(call, this, arguments);
  }
  return buildRequest as unknown as F;
}
