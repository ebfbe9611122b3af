/**
 * Ending LLM spans off the caller's critical path.
 *
 * When an LLM call settles, the caller is waiting for its result; the span's bookkeeping (classifying a
 * failure, parsing the model id, building ~20 attributes, the SDK's attribute checks, handing the span to
 * the span processor, and creating the SDK span itself when nothing needed it during the call: see
 * DeferredSdkSpan in llm-call.ts) is not something it should wait for. `end()` / `fail()` therefore only take the end
 * timestamp and queue the call; one `setImmediate` chain per event-loop turn finishes every queued span, with
 * the recorded end time, after the callers' continuations ran and their next requests went out. The
 * caller's latency no longer includes the span's end; the CPU is the same, spent while the process waits
 * for I/O. See docs/design-notes.md ("Span end off the critical path").
 *
 * The one thing a deferred end could break is a flush issued in the same turn as the call settled
 * (`await llmCall(); await provider.forceFlush()` in a serverless handler): the processor would take its
 * snapshot before the span ended. So `flushPendingLlmSpans()` finishes the queue synchronously, and
 * `guardProviderFlush()` makes a tracer provider's own `forceFlush()` / `shutdown()` call it first; every
 * modelwatch instrumentation guards the provider it is given, register() guards its own, and the global
 * provider is guarded whenever a batch is queued (for the manual API and late registration).
 */
import { diag, trace } from '@opentelemetry/api';

/** A call whose span waits to be finished. */
export interface PendingSpanEnd {
  /** Writes the span's last attributes and ends it with its recorded end time. Must not throw. */
  finishSpan(): void;
}

let pending: PendingSpanEnd[] = [];
let scheduled = false;
/**
 * Calls that settle without the event loop turning (a loop of awaits on already-resolved work, e.g. the
 * manual API around a cache) would queue without bound; past this many the queue is finished on the spot.
 */
const MAX_PENDING_SPAN_ENDS = 128;

/**
 * Queues `call` to be finished after the current event-loop turn. `checkGlobalProvider`: whether the global
 * tracer provider must be guarded before the caller's turn goes on (a span of the global provider that a
 * flush in the same turn must find). Calls whose tracer came from an instrumentation pass false: their
 * provider was guarded when it was given (ModelwatchInstrumentationBase), and the global one is re-checked
 * with every queued batch anyway, off the caller's path. The check reads the API's global registry and the
 * proxy's delegate: ~5-8 µs of a call's latency over real HTTP, measured with caches cold.
 */
export function deferSpanEnd(call: PendingSpanEnd, checkGlobalProvider = true): void {
  pending.push(call);
  if (pending.length >= MAX_PENDING_SPAN_ENDS) return flushPendingLlmSpans();
  if (scheduled) return;
  scheduled = true;
  if (checkGlobalProvider || lastGlobalDelegate === NOT_CHECKED) guardGlobalProvider();
  // Not unref'd: the loop runs one more turn to finish the spans instead of exiting with them unended.
  setImmediate(flushAfterOneMoreTurn);
}

/**
 * Two check phases, not one. The caller's continuation runs before the first and starts its next request,
 * but the request may only be written by an immediate queued there (Node 24's fetch): finishing the spans
 * in the first check phase ran ahead of that write and delayed it. Measured (openai 6 against a provider
 * that takes 2 ms, calls alternating between arms): added median latency per call on Node 24, JSON +67-78
 * → +34-41 µs, stream of 4 chunks +88-113 → +48-57 µs (contrib +43-54 and +62-75); Node 20 unchanged
 * within noise.
 */
function flushAfterOneMoreTurn(): void {
  setImmediate(finishQueuedSpans);
}

function finishQueuedSpans(): void {
  guardGlobalProvider();
  flushPendingLlmSpans();
}

/**
 * Finishes every LLM span whose call has settled but whose span has not been ended yet. Called by the
 * guarded `forceFlush()` / `shutdown()` of tracer providers; call it yourself before flushing a provider
 * modelwatch could not guard (e.g. a span processor flushed directly).
 */
export function flushPendingLlmSpans(): void {
  scheduled = false;
  while (pending.length > 0) {
    const batch = pending;
    pending = [];
    for (const call of batch) {
      try {
        call.finishSpan();
      } catch (error) {
        diag.debug('modelwatch: finishing a span failed', error);
      }
    }
  }
}

const GUARDED = Symbol.for('modelwatch.flushGuarded');

interface FlushableProvider {
  forceFlush?: (...args: unknown[]) => unknown;
  shutdown?: (...args: unknown[]) => unknown;
  [GUARDED]?: true;
}

/**
 * Makes `provider.forceFlush()` and `provider.shutdown()` finish pending LLM spans first, so a flush right
 * after a call still exports its span. For the API's ProxyTracerProvider (the global one) its delegate is
 * guarded. Patched on the instance, once; providers without those methods (no-op) are left alone.
 */
export function guardProviderFlush(provider: unknown): void {
  try {
    const target = delegateOf(provider) as FlushableProvider | undefined;
    if (target === undefined || target === null || typeof target !== 'object' || target[GUARDED]) return;
    for (const method of ['forceFlush', 'shutdown'] as const) {
      const original = target[method];
      if (typeof original !== 'function') continue;
      target[method] = function flushingPendingLlmSpansFirst(this: unknown, ...args: unknown[]): unknown {
        flushPendingLlmSpans();
        return original.apply(this, args);
      };
    }
    target[GUARDED] = true;
  } catch (error) {
    diag.debug('modelwatch: could not guard the tracer provider flush', error);
  }
}

// Once per queued batch, not per call; the identity check makes it a pointer comparison after the first.
const NOT_CHECKED = Symbol('modelwatch.notChecked');
let lastGlobalDelegate: unknown = NOT_CHECKED;
function guardGlobalProvider(): void {
  const delegate = delegateOf(trace.getTracerProvider());
  if (delegate === lastGlobalDelegate) return;
  lastGlobalDelegate = delegate;
  guardProviderFlush(delegate);
}

/**
 * The provider that really makes spans: a ProxyTracerProvider's delegate (duck-typed: the proxy may come
 * from another copy of @opentelemetry/api), else the provider itself.
 */
function delegateOf(provider: unknown): unknown {
  const proxy = provider as { getDelegate?: () => unknown } | null | undefined;
  return typeof proxy?.getDelegate === 'function' ? proxy.getDelegate() : provider;
}
