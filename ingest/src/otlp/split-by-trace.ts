/**
 * Splits one ExportTraceServiceRequest into one request per trace id, keeping each span's resource and
 * scope. The gateway keys Kafka records by trace id so a trace stays in one partition (the Collector's
 * `partition_traces_by_id` behaviour); a request that mixes traces therefore becomes several records.
 */
import type { RawResourceSpans, RawScopeSpans, RawTraceRequest } from './proto-types.js';

export interface TraceSlice {
  /** 32 lowercase hex characters. */
  traceId: string;
  request: RawTraceRequest;
  spanCount: number;
}

export function splitByTraceId(request: RawTraceRequest): TraceSlice[] {
  const slices = new Map<string, TraceSlice>();
  for (const resourceSpans of request.resourceSpans ?? []) {
    // One output ResourceSpans / ScopeSpans per (trace, input group), created on first use.
    const resourceFor = new Map<string, RawResourceSpans>();
    for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
      const scopeFor = new Map<string, RawScopeSpans>();
      for (const span of scopeSpans.spans ?? []) {
        const bytes = span.traceId;
        const traceId =
          bytes && bytes.length > 0
            ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
            : '';
        let slice = slices.get(traceId);
        if (!slice) {
          slice = { traceId, request: { resourceSpans: [] }, spanCount: 0 };
          slices.set(traceId, slice);
        }
        let scope = scopeFor.get(traceId);
        if (!scope) {
          let resource = resourceFor.get(traceId);
          if (!resource) {
            resource = {
              resource: resourceSpans.resource ?? null,
              scopeSpans: [],
              schemaUrl: resourceSpans.schemaUrl ?? '',
            };
            resourceFor.set(traceId, resource);
            slice.request.resourceSpans?.push(resource);
          }
          scope = { scope: scopeSpans.scope ?? null, spans: [], schemaUrl: scopeSpans.schemaUrl ?? '' };
          scopeFor.set(traceId, scope);
          resource.scopeSpans?.push(scope);
        }
        scope.spans?.push(span);
        slice.spanCount++;
      }
    }
  }
  return [...slices.values()];
}
