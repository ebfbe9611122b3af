/**
 * Retry counting when calls share their request objects. The SDK retries inside `create()`, and the count
 * is correlated to the call that made it; a caller reusing one params object (and one options object) for
 * concurrent calls is common, so any correlation keyed on those objects would mix the calls' attempts up.
 * The attempts reach their call through the active context when a context manager carries it, else through
 * a counter in a copy of the request options (attempt-counter.ts); both ways are driven here: the first
 * calls of the process (before any span was finished, the options carry the counter), calls after that
 * (the context), and calls after the context manager went away.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import OpenAI from 'openai';
import * as openaiModule from 'openai';
import { ATTR_MODELWATCH_RETRY_COUNT, OpenAIInstrumentation } from '@modelwatch/instrumentation';
import { startOpenAISimulator } from '../../../ingest/src/simulators/openai-server.js';
import type { RespondFn, Simulator } from '../../../ingest/src/simulators/reply.js';
import { setupInMemoryTracing, TEST_API_KEY, waitForSpans } from '../test-support/sdk-test-harness.js';

// Global, for its context manager (AsyncLocalStorage, as NodeSDK installs).
const tracing = setupInMemoryTracing({ registerGlobal: true });
const instrumentation = new OpenAIInstrumentation();
instrumentation.setTracerProvider(tracing.provider);

let scenario: RespondFn = () => ({ kind: 'success' });
let sim: Simulator;

describe('OpenAI retry count with shared request objects', () => {
  before(async () => {
    instrumentation.manuallyInstrument(openaiModule);
    sim = await startOpenAISimulator({ respond: (request) => scenario(request) });
  });
  after(async () => {
    instrumentation.disable();
    await sim.close();
    await tracing.shutdown();
  });

  /** Two concurrent calls sharing their params and options; one is throttled twice. */
  async function assertOwnRetriesCounted(): Promise<void> {
    tracing.reset();
    // Requests in arrival order: the 1st and 3rd are throttled, the rest succeed. Whichever call sends
    // the 1st request is throttled, retries (after ≥5 ms, so after the other call's only request, the 2nd)
    // into the 3rd, and succeeds with the 4th: 2 retries; the other call succeeds at once: 0.
    let requests = 0;
    scenario = () => {
      requests++;
      return requests === 1 || requests === 3
        ? { kind: 'error', status: 429, retryAfterMs: 5 }
        : { kind: 'success' };
    };
    const client = new OpenAI({ baseURL: sim.baseURL, apiKey: TEST_API_KEY, maxRetries: 3, timeout: 5000 });
    const params = { model: 'gpt-4o', messages: [{ role: 'user' as const, content: 'Say hello' }] };
    const options = { headers: { 'x-caller': 'shared' } };

    const completions = await Promise.all([
      client.chat.completions.create(params, options),
      client.chat.completions.create(params, options),
    ]);

    for (const completion of completions) assert.equal(completion.object, 'chat.completion');
    assert.equal(requests, 4);
    const spans = await waitForSpans(tracing, 2);
    assert.equal(spans.length, 2);
    const retryCounts = spans.map((span) => span.attributes[ATTR_MODELWATCH_RETRY_COUNT]).sort();
    assert.deepEqual(retryCounts, [0, 2]);
    // The caller's objects are left as they were given.
    assert.deepEqual(Object.getOwnPropertySymbols(params), []);
    assert.deepEqual(Object.getOwnPropertySymbols(options), []);
    assert.deepEqual(Object.keys(options), ['headers']);
  }

  /** One call, to let a span finish (which is when the way attempts are tracked is probed). */
  async function oneCall(): Promise<void> {
    scenario = () => ({ kind: 'success' });
    const client = new OpenAI({ baseURL: sim.baseURL, apiKey: TEST_API_KEY, maxRetries: 0 });
    await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    await waitForSpans(tracing, 1);
  }

  it('counts each concurrent call’s own retries in the first calls of the process', async () => {
    await assertOwnRetriesCounted();
  });

  it('counts them through the context manager once a span has finished', async () => {
    await oneCall();
    await assertOwnRetriesCounted();
  });

  it('counts them without a context manager', async () => {
    context.disable();
    try {
      await oneCall();
      await assertOwnRetriesCounted();
    } finally {
      context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    }
  });
});
