/**
 * `trace.setSpan(parent, span)` for the context an LLM call runs the SDK in, without the API's cost on the
 * caller's path. The API's BaseContext copies its parent's Map and creates three closures for every new
 * context; measured with checkpoints in `create()` and cold caches (the process idled while waiting for the
 * provider), setSpan took ~4 µs of the ~19 µs modelwatch added before the request went out. A Context is an
 * interface that context managers store as an opaque value, so this one is an overlay: the span over its
 * parent, read through for every other key.
 *
 * The span's key is the API's own: `createContextKey()` is `Symbol.for(description)` and the API names its
 * span key 'OpenTelemetry Context Key SPAN'. Checked once at load with the API's own getSpan; should a
 * future API name it differently, trace.setSpan is used instead.
 */
import {
  createContextKey,
  INVALID_SPAN_CONTEXT,
  ROOT_CONTEXT,
  trace,
  type Context,
  type Span,
} from '@opentelemetry/api';

const SPAN_KEY = createContextKey('OpenTelemetry Context Key SPAN');

/** One value over a parent context. setValue/deleteValue keep a single overlay over a parent that changes. */
class OverlayContext implements Context {
  constructor(
    private readonly parent: Context,
    private readonly key: symbol,
    private readonly value: unknown,
  ) {}

  getValue(key: symbol): unknown {
    return key === this.key ? this.value : this.parent.getValue(key);
  }

  setValue(key: symbol, value: unknown): Context {
    if (key === this.key) return new OverlayContext(this.parent, key, value);
    return new OverlayContext(this.parent.setValue(key, value), this.key, this.value);
  }

  deleteValue(key: symbol): Context {
    // The parent may hold the key too (an outer span): deleting it must leave none.
    if (key === this.key) return this.parent.deleteValue(key);
    return new OverlayContext(this.parent.deleteValue(key), this.key, this.value);
  }
}

function overlayMatchesApi(): boolean {
  try {
    const probe = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
    const overlay = new OverlayContext(ROOT_CONTEXT, SPAN_KEY, probe);
    return trace.getSpan(overlay) === probe && trace.getSpan(trace.deleteSpan(overlay)) === undefined;
  } catch {
    return false;
  }
}
const useOverlay = overlayMatchesApi();

/** `parent` with `span` as the active span (what trace.setSpan returns, built more cheaply). */
export function withActiveSpan(parent: Context, span: Span): Context {
  return useOverlay ? new OverlayContext(parent, SPAN_KEY, span) : trace.setSpan(parent, span);
}
