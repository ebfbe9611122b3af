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

const DONE: IteratorReturnResult<void> = Object.freeze({ done: true, value: undefined });

/**
 * The observing iterator, written out by hand rather than as an `async function*` around `for await`: a
 * generator costs several promises and microtask turns per chunk (its own request queue, the await on the
 * source, the implicit await of `yield`), which made the per-chunk cost of a long stream mostly ours. Here a
 * chunk costs one `.then` on the source's own promise, with callbacks bound once per stream.
 *
 * Behaves like the generator it replaced: the hooks see a chunk when the consumer asks for the next one (or
 * stops), the source is closed when the consumer stops early, and once finished it answers `{ done: true }`
 * without touching the source again. One difference: `next()` hands back the source's own promise (the
 * final `{ done: true, value }` included), so a stream adds no promise hop between chunk and consumer.
 */
class ObservingIterator<T> implements AsyncGenerator<T, void, undefined> {
  // The chunk handed to the consumer but not yet observed. A flag and a slot, to allocate nothing per chunk.
  private pending = false;
  private last: T | undefined = undefined;
  private finished = false;
  private readonly onResult: (result: IteratorResult<T>) => void;
  private readonly onFailure: (error: unknown) => void;

  /**
   * Either the source iterator, or (`iterable` given) undefined until the first `next()` asks the iterable
   * for one, as `for await` would: wrapping a stream nobody reads does not touch it.
   */
  private sourceIterator: AsyncIterator<T> | undefined;

  constructor(
    iterator: AsyncIterator<T> | undefined,
    private readonly iterable: AsyncIterable<T> | undefined,
    private readonly hooks: GuardedHooks<T>,
  ) {
    this.sourceIterator = iterator;
    this.onResult = (result) => {
      if (result.done) {
        this.finished = true;
        this.hooks.onEnd();
        return;
      }
      this.last = result.value;
      this.pending = true;
    };
    // The consumer gets the rejection from the source's promise; this side branch only records it.
    this.onFailure = (error) => {
      this.finished = true;
      this.hooks.onError(error);
    };
  }

  private observePending(): void {
    if (!this.pending) return;
    this.pending = false;
    this.hooks.onChunk(this.last as T);
  }

  next(): Promise<IteratorResult<T, void>> {
    this.observePending();
    if (this.finished) return Promise.resolve(DONE);
    let step: Promise<IteratorResult<T>>;
    try {
      this.sourceIterator ??= this.iterable![Symbol.asyncIterator]();
      step = this.sourceIterator.next();
    } catch (error) {
      return Promise.reject(this.onFailureSafe(error));
    }
    // The consumer awaits the source's own promise; we watch it from a side reaction, registered first so
    // the chunk is noted before the consumer's continuation runs. A chained `.then` would put one more
    // promise hop between every chunk and the consumer.
    if (!(step instanceof Promise)) step = Promise.resolve(step);
    step.then(this.onResult, this.onFailure);
    return step;
  }

  /** The consumer stopped early (`break`, `return`, a throw in its loop): close the source, end as success. */
  return(value?: void | PromiseLike<void>): Promise<IteratorResult<T, void>> {
    if (this.finished) {
      this.observePending();
      return Promise.resolve(DONE);
    }
    this.finished = true;
    let closing: unknown;
    try {
      const source = this.sourceIterator;
      closing = typeof source?.return === 'function' ? source.return(value as undefined) : undefined;
    } catch (error) {
      this.observePending();
      this.hooks.onError(error);
      return Promise.reject(error);
    }
    return Promise.resolve(closing).then(
      () => {
        this.observePending();
        this.hooks.onEnd();
        return DONE;
      },
      (error: unknown) => {
        // Closing the source failed: that is the stream's error, as it was for the generator's `finally`.
        this.observePending();
        this.hooks.onError(error);
        throw error;
      },
    );
  }

  /** An error thrown into the iterator is the consumer's; like a generator, close the source and rethrow. */
  throw(error: unknown): Promise<IteratorResult<T, void>> {
    this.observePending();
    if (!this.finished) {
      this.finished = true;
      this.hooks.onError(error);
      try {
        void Promise.resolve(this.sourceIterator?.return?.()).catch(() => undefined);
      } catch {
        // The source could not be closed; the consumer's error is what matters.
      }
    }
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private onFailureSafe(error: unknown): unknown {
    this.finished = true;
    this.hooks.onError(error);
    return error;
  }
}

function observe<T>(source: AsyncIterable<T>, hooks: GuardedHooks<T>): AsyncGenerator<T, void, undefined> {
  return new ObservingIterator(undefined, source, hooks);
}

/** Observes the iterator a Stream's `iterator()` returned. */
function observeIterator<T>(
  source: AsyncIterator<T>,
  hooks: GuardedHooks<T>,
): AsyncGenerator<T, void, undefined> {
  return new ObservingIterator(source, undefined, hooks);
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
    const original = target.iterator as () => AsyncIterator<T>;
    target.iterator = () => observeIterator(original.call(stream), once);
  } else if (typeof target[Symbol.asyncIterator] === 'function') {
    // Any other async iterable object: shadow its async iterator with an own property, keeping the object.
    const original = target[Symbol.asyncIterator] as () => AsyncIterator<T>;
    Object.defineProperty(stream, Symbol.asyncIterator, {
      value: () => observeIterator(original.call(stream), once),
      configurable: true,
      writable: true,
    });
  } else {
    diag.debug('modelwatch: wrapStreamIterator got an object that is not iterable; left as is');
  }
  return stream;
}
