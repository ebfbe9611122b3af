// LLM spans end one event-loop turn after their call settled, stamped with the time the call settled, and
// a flush of a guarded provider right after a call still exports the call's span.
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { afterEach, describe, it } from 'node:test';
import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import { hrTimeToMilliseconds } from '@opentelemetry/core';
import {
  BatchSpanProcessor,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import {
  ATTR_GEN_AI_REQUEST_TEMPERATURE,
  ATTR_MODELWATCH_FAILURE_CLASS,
  ATTR_MODELWATCH_MODEL_VERSION,
  flushPendingLlmSpans,
  guardProviderFlush,
  OpenAIInstrumentation,
  resolveInstrumentationConfig,
  startLlmCall,
} from '@modelwatch/instrumentation';

const config = resolveInstrumentationConfig({}, {});
const request = {
  provider: 'openai',
  operation: 'chat',
  requestModel: 'gpt-4o-2024-08-06',
  temperature: 0.2,
};

function batchingProvider(): { provider: TracerProvider; exporter: InMemorySpanExporter } {
  const exporter = new InMemorySpanExporter();
  // A long schedule: only an explicit flush exports, as in a serverless handler.
  const processor = new BatchSpanProcessor({ exporter, scheduledDelayMillis: 60_000 });
  return { provider: new TracerProvider({ spanProcessors: [processor] }), exporter };
}

function busyWaitMs(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

afterEach(() => {
  flushPendingLlmSpans();
  trace.disable();
  context.disable();
});

describe('deferred span end', () => {
  it('ends the span two check phases later, stamped with the time end() was called', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    const call = startLlmCall(provider.getTracer('t'), config, request);
    call.response({ responseModel: 'gpt-4o-2024-08-06' });
    call.end();
    assert.equal(exporter.getFinishedSpans().length, 0, 'not ended within the caller’s turn');
    busyWaitMs(30); // the caller's own work after the call returned
    await nextTurn();
    // The caller's next request may be written by an immediate its continuation queued (Node 24's fetch):
    // the span work must not run ahead of it.
    assert.equal(exporter.getFinishedSpans().length, 0, 'not ended in the first check phase after the call');
    await nextTurn();
    const [span] = exporter.getFinishedSpans();
    assert.ok(span, 'ended in the next one');
    const durationMs = hrTimeToMilliseconds(span.duration);
    assert.ok(durationMs < 25, `duration ${durationMs} ms must not include the caller's 30 ms afterwards`);
    assert.equal(span.attributes[ATTR_MODELWATCH_MODEL_VERSION], '4o');
    assert.equal(span.attributes[ATTR_GEN_AI_REQUEST_TEMPERATURE], 0.2, 'request parameters set at finish');
    await provider.shutdown();
  });

  it('classifies a failure at finish; status and exception event carry the failure time', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    const call = startLlmCall(provider.getTracer('t'), config, request);
    const error = Object.assign(new Error('Overloaded'), { status: 529 });
    call.fail(error);
    call.end(); // a second end is ignored
    busyWaitMs(30);
    flushPendingLlmSpans();
    const spans = exporter.getFinishedSpans();
    assert.equal(spans.length, 1);
    const span = spans[0]!;
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    assert.equal(span.attributes[ATTR_MODELWATCH_FAILURE_CLASS], 'overloaded');
    const event = span.events.find((e) => e.name === 'exception');
    assert.ok(event);
    assert.deepEqual(event.time, span.endTime, 'the exception happened when the call failed');
    assert.ok(hrTimeToMilliseconds(span.duration) < 25);
    await provider.shutdown();
  });

  it('an instrumentation guards the provider it is given: forceFlush right after a call exports its span', async () => {
    const { provider, exporter } = batchingProvider();
    const instrumentation = new OpenAIInstrumentation({ enabled: false });
    instrumentation.setTracerProvider(provider);
    startLlmCall(provider.getTracer('t'), config, request).end();
    await provider.forceFlush();
    assert.equal(exporter.getFinishedSpans().length, 1);
    await provider.shutdown();
  });

  it('without the guard the same flush misses the span (what the guard is for)', async () => {
    const { provider, exporter } = batchingProvider();
    startLlmCall(provider.getTracer('t'), config, request).end();
    await provider.forceFlush();
    assert.equal(exporter.getFinishedSpans().length, 0, 'the processor took its snapshot before the end');
    flushPendingLlmSpans();
    await provider.forceFlush();
    assert.equal(exporter.getFinishedSpans().length, 1);
    await provider.shutdown();
  });

  it('guards the global provider’s delegate when a span is queued (manual API, late registration)', async () => {
    const { provider, exporter } = batchingProvider();
    trace.setGlobalTracerProvider(provider);
    startLlmCall(trace.getTracer('t'), config, request).end();
    await provider.forceFlush();
    assert.equal(exporter.getFinishedSpans().length, 1);
    await provider.shutdown();
  });

  it('guarding twice wraps once', async () => {
    const { provider, exporter } = batchingProvider();
    const original = provider.forceFlush;
    guardProviderFlush(provider);
    const guarded = provider.forceFlush;
    guardProviderFlush(provider);
    assert.notEqual(guarded, original);
    assert.equal(provider.forceFlush, guarded);
    startLlmCall(provider.getTracer('t'), config, request).end();
    await provider.forceFlush();
    assert.equal(exporter.getFinishedSpans().length, 1);
    await provider.shutdown();
  });

  it('bounds the queue when calls settle without the loop turning', () => {
    const exporter = new InMemorySpanExporter();
    const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    for (let i = 0; i < 300; i++) startLlmCall(provider.getTracer('t'), config, request).end();
    const finished = exporter.getFinishedSpans().length;
    assert.ok(finished >= 256 && finished < 300, `${finished} of 300 finished synchronously`);
    flushPendingLlmSpans();
    assert.equal(exporter.getFinishedSpans().length, 300);
  });
});
