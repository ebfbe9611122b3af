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

/**
 * The hooks behind one guard: onChunk stops after the end, onEnd/onError fire at most once in total, even
 * across several iterators (tee branches), and a hook that throws is logged, never passed to the consumer
 * (hooks are instrumentation code). A class with try/catch in each method rather than closures, because
 * onChunk runs for every chunk of every stream: nothing is allocated per chunk.
 */
class GuardedHooks<T> {
  private done = false;

  constructor(private readonly hooks: StreamHooks<T>) {}

  onChunk(chunk: T): void {
    if (this.done) return;
    try {
      this.hooks.onChunk(chunk);
    } catch (error) {
      diag.debug('modelwatch: stream onChunk hook failed', error);
    }
  }

  onEnd(): void {
    if (this.done) return;
    this.done = true;
    try {
      this.hooks.onEnd();
    } catch (error) {
      diag.debug('modelwatch: stream onEnd hook failed', error);
    }
  }

  onError(err: unknown): void {
    if (this.done) return;
    this.done = true;
    try {
      this.hooks.onError(err);
    } catch (error) {
      diag.debug('modelwatch: stream onError hook failed', error);
    }
  }
}

async function* observe<T>(
  source: AsyncIterable<T>,
  hooks: GuardedHooks<T>,
): AsyncGenerator<T, void, undefined> {
  // The chunk handed to the consumer but not yet observed: if the consumer breaks right after receiving
  // it, the generator resumes in `finally` without passing the `onChunk` line, so it is observed there.
  // A flag and a slot rather than a `{ chunk }` box, to allocate nothing per chunk.
  let pending = false;
  let last: T | undefined;
  let failed = false;
  try {
    for await (const chunk of source) {
      last = chunk;
      pending = true;
      yield chunk;
      pending = false;
      hooks.onChunk(chunk);
    }
  } catch (error) {
    failed = true;
    hooks.onError(error);
    throw error;
  } finally {
    if (pending) hooks.onChunk(last as T);
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
  return observe(source, new GuardedHooks(hooks));
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
  const once = new GuardedHooks(hooks);
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
