/**
 * Hooks on the SDK's `APIPromise` class, installed once per SDK module on its prototype, through which a call's
 * observer sees the parsed result without parsing it itself.
 *
 * Why the prototype and not each promise: hooking one call's promise meant three closures and three own
 * properties on every APIPromise (its shape changing per call), plus a promise inserted into the parse chain.
 * That was the largest share of the instrumentation's CPU per call (~5-10 µs of ~20 µs added, measured with
 * `openai` 6 in-process). Now a call stores its observer under one symbol, and the prototype's methods, which
 * every APIPromise already runs, look for it:
 *  - `parse()` — the memoised parse behind `await`, `.then()`, `.withResponse()`: when it creates the parse,
 *    the observer gets the result (or error) from a reaction on it, registered before the caller's own;
 *  - `_thenUnwrap()` — derived promises (helpers such as `chat.completions.parse()`, `responses.stream()`)
 *    re-run the inner parse instead of `parse()`; wrapping the `transform` sees the raw result either way, and
 *    the derived promise is marked so a parse error there still fails the call. openai 7 sets `_thenUnwrap`
 *    per instance (an own property closing over the inner parse), so on those promises it is replaced by a
 *    shared function that calls the instance's own one;
 *  - `asResponse()` — the caller reads the body itself, so an unparsed call ends with the headers.
 * Promises without an observer (other methods' calls, pages) pass straight through. Nothing here may throw
 * into the caller: our part of each hook is guarded.
 */
import { diag } from '@opentelemetry/api';
import type { PatchTarget } from './stainless-instrumentation.js';

type ParseResponse = (this: unknown, client: unknown, props: unknown) => unknown;

/** What the hooks hand results and errors to (ApiCallObserver). */
export interface ApiPromiseObserver {
  readonly onParsed: (result: unknown) => void;
  readonly onFailed: (error: unknown) => void;
  /** The HTTP response arrived (the SDK's response props: status and headers), before its body is read. */
  responseArrived(props: unknown): void;
  /** The caller took the raw response (`asResponse()` without a parse): the call ends with the headers. */
  endWithoutBody(): void;
  /** The promise's own `parseResponse`, kept while parseResponseObserved stands in for it. */
  sdkParseResponse: ParseResponse | undefined;
}

type ThenUnwrap = (this: unknown, transform: unknown, ...rest: unknown[]) => unknown;

const OBSERVER = Symbol('modelwatch.apiCallObserver');
/** On a promise derived with `_thenUnwrap`: its parse errors are the call's, its results come via transform. */
const DERIVED_FROM = Symbol('modelwatch.derivedFrom');
const OWN_THEN_UNWRAP = Symbol('modelwatch.ownThenUnwrap');
/** On a derived promise: its own `parseResponse`, while derivedParseResponseObserved stands in for it. */
const OWN_PARSE_RESPONSE = Symbol('modelwatch.ownParseResponse');
/** Marks our prototype hooks, so observeApiPromise can tell a hooked APIPromise class. */
const HOOK = Symbol('modelwatch.apiPromiseHook');

/** The runtime members of the SDKs' APIPromise we rely on (TypeScript-private in the SDKs, stable in 4.x–7.x). */
export interface ApiPromiseInternals {
  responsePromise?: PromiseLike<unknown>;
  parseResponse?: unknown;
  parsedPromise?: unknown;
  parse?: unknown;
  _thenUnwrap?: unknown;
  then?: unknown;
  [OBSERVER]?: ApiPromiseObserver;
  [DERIVED_FROM]?: ApiPromiseObserver;
  [OWN_THEN_UNWRAP]?: ThenUnwrap;
  [OWN_PARSE_RESPONSE]?: ParseResponse;
}

/** True when `promise`'s class carries our hooks (its SDK module was patched). */
export function hasApiPromiseHooks(promise: ApiPromiseInternals): boolean {
  return (promise.parse as { [HOOK]?: true } | undefined)?.[HOOK] === true;
}

/**
 * Routes `promise`'s parse, derivations and raw-response reads to `observer`. The HTTP response reaches it
 * through the promise's `parseResponse`, which every parse calls with the response props (status, headers)
 * first, derived promises included (their transform calls the first promise's): one property replaced
 * instead of a listener on `responsePromise` per call, which cost a promise, a closure and a microtask on
 * the caller's path. HTTP and transport errors reach the observer through the parse they fail.
 */
export function attachObserver(promise: ApiPromiseInternals, observer: ApiPromiseObserver): void {
  promise[OBSERVER] = observer;
  const own = promise.parseResponse;
  if (typeof own === 'function') {
    observer.sdkParseResponse = own as ParseResponse;
    promise.parseResponse = parseResponseObserved;
  }
  hookOwnThenUnwrap(promise);
}

/** Stands in for an observed promise's `parseResponse`: notes the response, then parses as the SDK does. */
function parseResponseObserved(this: ApiPromiseInternals, client: unknown, props: unknown): unknown {
  const observer = this[OBSERVER]!;
  observer.responseArrived(props);
  return observer.sdkParseResponse!.call(this, client, props);
}

/**
 * The same for a derived promise. openai 7 derives with the first promise's inner parse function, not its
 * `parseResponse`, so the derived promise's own is the one every parse of it runs. (Where the derivation
 * calls the first promise's `parseResponse`, as in openai 6, the response is noted twice: the same facts.)
 */
function derivedParseResponseObserved(this: ApiPromiseInternals, client: unknown, props: unknown): unknown {
  this[DERIVED_FROM]!.responseArrived(props);
  return this[OWN_PARSE_RESPONSE]!.call(this, client, props);
}

function hookOwnThenUnwrap(promise: ApiPromiseInternals): void {
  const own = promise._thenUnwrap;
  if (typeof own === 'function' && own !== thenUnwrapOwnObserved && Object.hasOwn(promise, '_thenUnwrap')) {
    promise[OWN_THEN_UNWRAP] = own as ThenUnwrap;
    promise._thenUnwrap = thenUnwrapOwnObserved;
  }
}

function patchParse(original: (this: unknown) => unknown): (this: ApiPromiseInternals) => unknown {
  function parseObserved(this: ApiPromiseInternals): unknown {
    const observer = this[OBSERVER];
    const derivedFrom = this[DERIVED_FROM];
    if ((observer === undefined && derivedFrom === undefined) || this.parsedPromise !== undefined)
      return original.call(this);
    const parsed = original.call(this) as PromiseLike<unknown> | undefined;
    try {
      if (typeof parsed?.then === 'function') {
        // Registered as the parse is created: before the caller's reaction, so a stream is wrapped before
        // the caller iterates it. Both branches are handled: no unhandled rejection of ours.
        if (observer !== undefined) parsed.then(observer.onParsed, observer.onFailed);
        else parsed.then(undefined, derivedFrom!.onFailed);
      }
    } catch (error) {
      diag.debug('modelwatch: observing the parse failed', error);
    }
    return parsed;
  }
  return Object.assign(parseObserved, { [HOOK]: true as const });
}

/** The `transform`-observing derivation shared by the prototype hook and openai 7's own-property one. */
function thenUnwrapObserved(
  original: ThenUnwrap,
  promise: ApiPromiseInternals,
  transform: unknown,
  rest: unknown[],
): unknown {
  const observer = promise[OBSERVER] ?? promise[DERIVED_FROM];
  if (observer === undefined || typeof transform !== 'function')
    return original.call(promise, transform, ...rest);
  const inner = transform as (this: unknown, result: unknown, props: unknown) => unknown;
  const derived = original.call(
    promise,
    function transformObserved(this: unknown, result: unknown, props: unknown): unknown {
      observer.onParsed(result);
      return inner.call(this, result, props);
    },
    ...rest,
  ) as ApiPromiseInternals | null;
  try {
    if (derived !== null && typeof derived === 'object') {
      derived[DERIVED_FROM] = observer;
      const own = derived.parseResponse;
      if (typeof own === 'function') {
        derived[OWN_PARSE_RESPONSE] = own as ParseResponse;
        derived.parseResponse = derivedParseResponseObserved;
      }
      hookOwnThenUnwrap(derived);
    }
  } catch (error) {
    diag.debug('modelwatch: observing a derived promise failed', error);
  }
  return derived;
}

function thenUnwrapOwnObserved(this: ApiPromiseInternals, transform: unknown, ...rest: unknown[]): unknown {
  return thenUnwrapObserved(this[OWN_THEN_UNWRAP]!, this, transform, rest);
}

function patchThenUnwrap(original: ThenUnwrap): ThenUnwrap {
  return function thenUnwrapPrototypeObserved(
    this: unknown,
    transform: unknown,
    ...rest: unknown[]
  ): unknown {
    return thenUnwrapObserved(original, this as ApiPromiseInternals, transform, rest);
  };
}

function patchAsResponse(original: (this: unknown) => unknown): (this: ApiPromiseInternals) => unknown {
  return function asResponseObserved(this: ApiPromiseInternals): unknown {
    const observer = this[OBSERVER];
    if (observer !== undefined && this.parsedPromise === undefined) {
      try {
        this.responsePromise?.then((props) => {
          observer.responseArrived(props);
          observer.endWithoutBody();
        }, observer.onFailed);
      } catch (error) {
        diag.debug('modelwatch: observing asResponse failed', error);
      }
    }
    return original.call(this);
  };
}

type AnyMethod = (this: unknown, ...args: unknown[]) => unknown;

/** The prototype hooks for an SDK module's exported `APIPromise` class (none when the build lacks it). */
export function apiPromiseTargets(apiPromiseClass: unknown): PatchTarget[] {
  if (typeof apiPromiseClass !== 'function') return [];
  const cls = apiPromiseClass as unknown as { prototype: Record<string, AnyMethod> };
  return [
    [cls, 'parse', (original) => patchParse(original) as AnyMethod],
    [cls, '_thenUnwrap', (original) => patchThenUnwrap(original as ThenUnwrap) as AnyMethod],
    [cls, 'asResponse', (original) => patchAsResponse(original) as AnyMethod],
  ];
}
