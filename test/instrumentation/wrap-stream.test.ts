import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { wrapAsyncIterable, wrapStreamIterator, type StreamHooks } from '@modelwatch/instrumentation';

interface Recorded<T> {
  hooks: StreamHooks<T>;
  events: string[];
}

function recorder<T>(options: { throwingHooks?: boolean } = {}): Recorded<T> {
  const events: string[] = [];
  const maybeThrow = (): void => {
    if (options.throwingHooks) throw new Error('hook bug');
  };
  return {
    events,
    hooks: {
      onChunk: (chunk) => {
        events.push(`chunk:${String(chunk)}`);
        maybeThrow();
      },
      onEnd: () => {
        events.push('end');
        maybeThrow();
      },
      onError: (err) => {
        events.push(`error:${(err as Error).message}`);
        maybeThrow();
      },
    },
  };
}

async function* numbers(count: number, log?: string[]): AsyncGenerator<number> {
  try {
    for (let i = 1; i <= count; i++) {
      log?.push(`source:${i}`);
      yield i;
    }
  } finally {
    log?.push('source:closed');
  }
}

async function* failingAfter(count: number): AsyncGenerator<number> {
  for (let i = 1; i <= count; i++) yield i;
  throw new Error('stream broke');
}

describe('wrapAsyncIterable', () => {
  it('yields every chunk unchanged, observes each after the consumer got it, then ends once', async () => {
    const { hooks, events } = recorder<number>();
    const seen: number[] = [];
    for await (const n of wrapAsyncIterable(numbers(3, events), hooks)) {
      events.push(`consumer:${n}`);
      seen.push(n);
    }
    assert.deepEqual(seen, [1, 2, 3]);
    assert.deepEqual(events, [
      'source:1',
      'consumer:1',
      'chunk:1',
      'source:2',
      'consumer:2',
      'chunk:2',
      'source:3',
      'consumer:3',
      'chunk:3',
      'source:closed',
      'end',
    ]);
  });

  it('on break: observes the last chunk received, closes the source, ends as success', async () => {
    const { hooks, events } = recorder<number>();
    for await (const n of wrapAsyncIterable(numbers(10, events), hooks)) {
      if (n === 2) break;
    }
    // The loop exit closes the source first; the chunk the consumer got before breaking is still observed.
    assert.deepEqual(events, ['source:1', 'chunk:1', 'source:2', 'source:closed', 'chunk:2', 'end']);
  });

  it('on a source error: reports it once, rethrows the same error, does not call onEnd', async () => {
    const { hooks, events } = recorder<number>();
    const seen: number[] = [];
    await assert.rejects(
      (async () => {
        for await (const n of wrapAsyncIterable(failingAfter(2), hooks)) seen.push(n);
      })(),
      /stream broke/,
    );
    assert.deepEqual(seen, [1, 2]);
    assert.deepEqual(events, ['chunk:1', 'chunk:2', 'error:stream broke']);
  });

  it('when the consumer throws inside the loop: the source is closed and the span ends', async () => {
    const { hooks, events } = recorder<number>();
    await assert.rejects(
      (async () => {
        for await (const n of wrapAsyncIterable(numbers(5, events), hooks)) {
          if (n === 1) throw new Error('consumer bug');
        }
      })(),
      /consumer bug/,
    );
    assert.deepEqual(events, ['source:1', 'source:closed', 'chunk:1', 'end']);
  });

  it('asks the source for its iterator only when read, and leaves it alone once finished', async () => {
    const { hooks, events } = recorder<number>();
    let iteratorsMade = 0;
    const source = {
      [Symbol.asyncIterator]: () => {
        iteratorsMade++;
        return numbers(1, events);
      },
    };
    const wrapped = wrapAsyncIterable(source, hooks);
    assert.equal(iteratorsMade, 0, 'wrapping alone does not start the source');
    assert.deepEqual(await wrapped.next(), { done: false, value: 1 });
    assert.deepEqual(await wrapped.next(), { done: true, value: undefined });
    assert.deepEqual(await wrapped.next(), { done: true, value: undefined });
    assert.deepEqual(await wrapped.return(), { done: true, value: undefined });
    assert.equal(iteratorsMade, 1);
    assert.deepEqual(events, ['source:1', 'chunk:1', 'source:closed', 'end']);
  });

  it('swallows exceptions thrown by hooks', async () => {
    const { hooks, events } = recorder<number>({ throwingHooks: true });
    const seen: number[] = [];
    for await (const n of wrapAsyncIterable(numbers(2), hooks)) seen.push(n);
    assert.deepEqual(seen, [1, 2]);
    assert.deepEqual(events, ['chunk:1', 'chunk:2', 'end']);
    const failing = recorder<number>({ throwingHooks: true });
    await assert.rejects(
      (async () => {
        for await (const _ of wrapAsyncIterable(failingAfter(0), failing.hooks)) void _;
      })(),
      /stream broke/,
    );
  });
});

/** Same shape as the openai / anthropic Stream class: source behind an own `iterator` property. */
class FakeSdkStream<T> {
  constructor(public iterator: () => AsyncIterator<T>) {}
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return this.iterator();
  }
  tee(): [FakeSdkStream<T>, FakeSdkStream<T>] {
    const source = this.iterator();
    const buffers: IteratorResult<T>[][] = [[], []];
    const branch = (i: 0 | 1) =>
      new FakeSdkStream<T>(() => ({
        next: async () => {
          const mine = buffers[i] as IteratorResult<T>[];
          if (mine.length === 0) {
            const result = await source.next();
            for (const buffer of buffers) buffer.push(result);
          }
          return mine.shift() as IteratorResult<T>;
        },
      }));
    return [branch(0), branch(1)];
  }
}

describe('wrapStreamIterator', () => {
  it('keeps the object and its class, observes iteration through Symbol.asyncIterator', async () => {
    const { hooks, events } = recorder<number>();
    const stream = new FakeSdkStream(() => numbers(2));
    const wrapped = wrapStreamIterator(stream, hooks);
    assert.equal(wrapped, stream);
    assert.ok(wrapped instanceof FakeSdkStream);
    const seen: number[] = [];
    for await (const n of wrapped) seen.push(n);
    assert.deepEqual(seen, [1, 2]);
    assert.deepEqual(events, ['chunk:1', 'chunk:2', 'end']);
  });

  it('observes tee() once, at the shared source', async () => {
    const { hooks, events } = recorder<number>();
    const stream = wrapStreamIterator(new FakeSdkStream(() => numbers(2)), hooks);
    const [left, right] = stream.tee();
    const fromLeft: number[] = [];
    const fromRight: number[] = [];
    for await (const n of left) fromLeft.push(n);
    for await (const n of right) fromRight.push(n);
    assert.deepEqual(fromLeft, [1, 2]);
    assert.deepEqual(fromRight, [1, 2]);
    assert.deepEqual(events, ['chunk:1', 'chunk:2', 'end']);
  });

  it('works on the real openai Stream class, keeping tee() and toReadableStream()', async () => {
    const { Stream } = await import('openai/streaming');
    const { hooks, events } = recorder<{ n: number }>();
    const controller = new AbortController();
    const makeSource = async function* () {
      yield { n: 1 };
      yield { n: 2 };
    };
    const stream = wrapStreamIterator(new Stream(makeSource, controller), hooks);
    assert.ok(stream instanceof Stream);
    assert.equal(typeof stream.toReadableStream, 'function');
    const reader = stream.toReadableStream().getReader();
    const decoder = new TextDecoder();
    let text = '';
    for (let r = await reader.read(); !r.done; r = await reader.read()) text += decoder.decode(r.value);
    assert.equal(text, '{"n":1}\n{"n":2}\n');
    assert.deepEqual(events, ['chunk:[object Object]', 'chunk:[object Object]', 'end']);
  });
});
