/**
 * The context an instrumented SDK call runs in (active-span-context.ts): a cheaper stand-in for
 * trace.setSpan whose every read and change must match what the API's own contexts do.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createContextKey, ROOT_CONTEXT, trace, type Span, type SpanContext } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { withActiveSpan } from '../../instrumentation/src/active-span-context.js';

const spanWith = (spanId: string): Span =>
  trace.wrapSpanContext({
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId,
    traceFlags: 1,
  } satisfies SpanContext);

describe('withActiveSpan', () => {
  const other = createContextKey('test other key');
  const outer = spanWith('b7ad6b7169203331');
  const inner = spanWith('00f067aa0ba902b7');
  const parent = trace.setSpan(ROOT_CONTEXT.setValue(other, 'kept'), outer);

  it('is the span over its parent, as trace.setSpan would make it', () => {
    const ctx = withActiveSpan(parent, inner);
    assert.equal(trace.getSpan(ctx), inner);
    assert.equal(ctx.getValue(other), 'kept');
    assert.equal(trace.getSpan(parent), outer, 'the parent is left as it was');
  });

  it('takes new values and keeps the span', () => {
    const key = createContextKey('test new key');
    const ctx = withActiveSpan(parent, inner).setValue(key, 1);
    assert.equal(ctx.getValue(key), 1);
    assert.equal(trace.getSpan(ctx), inner);
    assert.equal(ctx.getValue(other), 'kept');
    const replaced = withActiveSpan(parent, inner).setValue(other, 'changed');
    assert.equal(replaced.getValue(other), 'changed');
    assert.equal(trace.getSpan(replaced), inner);
  });

  it('deletes values, the span included (the outer span does not come back)', () => {
    const ctx = withActiveSpan(parent, inner);
    assert.equal(trace.getSpan(trace.deleteSpan(ctx)), undefined);
    const withoutOther = ctx.deleteValue(other);
    assert.equal(withoutOther.getValue(other), undefined);
    assert.equal(trace.getSpan(withoutOther), inner);
    assert.equal(trace.getSpan(trace.setSpan(ctx, outer)), outer);
  });

  it('is what a context manager makes active, and what propagation injects', () => {
    const manager = new AsyncLocalStorageContextManager().enable();
    try {
      const ctx = withActiveSpan(parent, inner);
      const seen = manager.with(ctx, () => trace.getSpan(manager.active()));
      assert.equal(seen, inner);
      // The W3C propagator reads the span from the context like any caller.
      const carrier: Record<string, string> = {};
      new W3CTraceContextPropagator().inject(ctx, carrier, {
        set: (c: Record<string, string>, k: string, v: string) => (c[k] = v),
      });
      assert.equal(carrier.traceparent, '00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01');
    } finally {
      manager.disable();
    }
  });
});
