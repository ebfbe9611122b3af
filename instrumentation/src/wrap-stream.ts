/**
 * Stream observation shared by every SDK patcher: the consumer gets each chunk first, then the hooks see
 * it, and the span ends exactly once however the loop stops.
 */
import { diag } from '@opentelemetry/api';

export interface StreamHooks<T> {
  /** Called once per chunk, after the consumer received it. */
  onChunk(chunk: T): void;
  /**
   * The stream finished: the source was exhausted, OR the consumer stopped early (`break`, `return()`).
   * Stopping early counts as success with whatever was seen, because the provider did nothing wrong: the
   * caller chose to stop (e.g. it found what it needed) and the span should not read as a failure.
   */
  onEnd(): void;
  /** The source threw; the error is rethrown to the consumer unchanged. */
  onError(err: unknown): void;
}

function safely(what: string, fn: () => void): void {
  try {
    fn();
  } catch (error) {
    // Hooks are instrumentation code; their bugs must never surface in the consumer's loop.
    diag.debug(`modelwatch: stream ${what} hook failed`, error);
  }
}

/** Makes onEnd/onError fire at most once in total, even across several iterators (tee branches). */
function onceHooks<T>(hooks: StreamHooks<T>): StreamHooks<T> {
  let done = false;
  return {
    onChunk: (chunk) => {
      if (!done) safely('onChunk', () => hooks.onChunk(chunk));
    },
    onEnd: () => {
      if (done) return;
      done = true;
      safely('onEnd', () => hooks.onEnd());
    },
    onError: (err) => {
      if (done) return;
      done = true;
      safely('onError', () => hooks.onError(err));
    },
  };
}

async function* observe<T>(
  source: AsyncIterable<T>,
  hooks: StreamHooks<T>,
): AsyncGenerator<T, void, undefined> {
  // The chunk handed to the consumer but not yet observed: if the consumer breaks right after receiving
  // it, the generator resumes in `finally` without passing the `onChunk` line, so it is observed there.
  let pending: { chunk: T } | undefined;
  let failed = false;
  try {
    for await (const chunk of source) {
      pending = { chunk };
      yield chunk;
      pending = undefined;
      hooks.onChunk(chunk);
    }
  } catch (error) {
    failed = true;
    hooks.onError(error);
    throw error;
  } finally {
    if (pending) hooks.onChunk(pending.chunk);
    if (!failed) hooks.onEnd();
  }
}

/**
 * Wraps any async iterable (an async generator from @google/genai, a Bedrock event stream, an SDK Stream).
 * The returned generator yields the same chunks; breaking out of it also closes the source.
 * Note: a stream the consumer never iterates never ends its span — there is no signal to end it on.
 */
export function wrapAsyncIterable<T>(
  source: AsyncIterable<T>,
  hooks: StreamHooks<T>,
): AsyncGenerator<T, void, undefined> {
  return observe(source, onceHooks(hooks));
}

/** The shape of the openai / @anthropic-ai/sdk `Stream` class this module relies on. */
export interface IteratorOwningStream<T> {
  iterator: () => AsyncIterator<T>;
}

export function hasIteratorMethod<T>(value: unknown): value is IteratorOwningStream<T> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { iterator?: unknown }).iterator === 'function'
  );
}

/**
 * Instruments an openai / @anthropic-ai/sdk `Stream` in place and returns the same object, so the caller
 * keeps its class and methods (`controller`, `tee()`, `toReadableStream()`, helpers like `finalMessage`).
 *
 * Why `iterator` and not `Symbol.asyncIterator`: in both SDKs `Stream` stores the source as the own
 * property `iterator` and every way of reading goes through it — `[Symbol.asyncIterator]()` returns
 * `this.iterator()`, `toReadableStream()` reads `this[Symbol.asyncIterator]()`, and `tee()` calls
 * `this.iterator()` directly (openai/core/streaming.mjs). Replacing `iterator` therefore observes all of them,
 * and a tee'd stream is observed once, at the shared source, not once per branch.
 */
export function wrapStreamIterator<S extends object, T = unknown>(stream: S, hooks: StreamHooks<T>): S {
  // Typed loosely on purpose: the SDKs declare `iterator` private, so callers could not pass a Stream to a
  // parameter that names it. The shape is checked at run time instead.
  const once = onceHooks(hooks);
  const target = stream as { iterator?: unknown; [Symbol.asyncIterator]?: unknown };
  if (typeof target.iterator === 'function') {
    const original = (target.iterator as () => AsyncIterator<T>).bind(stream);
    target.iterator = () => observe({ [Symbol.asyncIterator]: original }, once);
  } else if (typeof target[Symbol.asyncIterator] === 'function') {
    // Any other async iterable object: shadow its async iterator with an own property, keeping the object.
    const original = (target[Symbol.asyncIterator] as () => AsyncIterator<T>).bind(stream);
    Object.defineProperty(stream, Symbol.asyncIterator, {
      value: () => observe({ [Symbol.asyncIterator]: original }, once),
      configurable: true,
      writable: true,
    });
  } else {
    diag.debug('modelwatch: wrapStreamIterator got an object that is not iterable; left as is');
  }
  return stream;
}
