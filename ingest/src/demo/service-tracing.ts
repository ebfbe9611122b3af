/**
 * Many simulated services in one process. OpenTelemetry puts `service.name` on the resource, one per
 * TracerProvider, and the SDK instrumentations hold one tracer each. So the traffic generator gives every
 * service its own provider (resource + batch exporter to the gateway) and hands the instrumentations a
 * routing provider whose tracer starts each span on the provider of the service named in the context
 * (`withService`). Spans therefore carry the right service.name exactly as separate processes would.
 */
import {
  context,
  createContextKey,
  type Context,
  type Span,
  type SpanOptions,
  type Tracer,
  type TracerProvider as ApiTracerProvider,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { guardProviderFlush } from '@modelwatch/instrumentation';

const SERVICE_KEY = createContextKey('modelwatch.demo.service');

export function withService<T>(service: string, fn: () => T): T {
  return context.with(context.active().setValue(SERVICE_KEY, service), fn);
}

export interface ServiceTracing {
  /** Give this to the instrumentations (`setTracerProvider`). */
  readonly router: ApiTracerProvider;
  /** Exports everything queued (all services). */
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

export interface ServiceTracingOptions {
  services: readonly string[];
  /** OTLP/HTTP traces URL, e.g. http://127.0.0.1:4318/v1/traces. */
  tracesUrl: string;
  /** Added to every service's resource (environment, demo run id). */
  resourceAttributes: Record<string, string>;
}

export function createServiceTracing(options: ServiceTracingOptions): ServiceTracing {
  // Context must follow async calls for withService to reach the span start; install AsyncLocalStorage
  // unless the host already has a context manager (setGlobalContextManager refuses to replace one).
  const contextManager = new AsyncLocalStorageContextManager().enable();
  const installed = context.setGlobalContextManager(contextManager);
  if (!installed) contextManager.disable();

  const providers = new Map<string, TracerProvider>();
  for (const service of options.services) {
    const provider = new TracerProvider({
      resource: resourceFromAttributes({ ...options.resourceAttributes, 'service.name': service }),
      spanProcessors: [
        // Generous queue: a dropped span would make the demo's rows != calls check meaningless.
        new BatchSpanProcessor({
          exporter: new OTLPTraceExporter({ url: options.tracesUrl }),
          maxQueueSize: 20_000,
          maxExportBatchSize: 512,
          scheduledDelayMillis: 500,
        }),
      ],
    });
    // The instrumentations only see the router, so they cannot guard these providers themselves: without
    // this, a flush right after the last call would miss the spans still waiting to be ended.
    guardProviderFlush(provider);
    providers.set(service, provider);
  }
  const fallback = options.services[0];
  const providerFor = (ctx: Context): TracerProvider | undefined => {
    const service = ctx.getValue(SERVICE_KEY);
    return providers.get(typeof service === 'string' ? service : (fallback ?? ''));
  };

  const router: ApiTracerProvider = {
    getTracer(name, version, tracerOptions): Tracer {
      const tracerIn = (ctx: Context): Tracer | undefined =>
        providerFor(ctx)?.getTracer(name, version, tracerOptions);
      const tracer: Tracer = {
        startSpan(spanName: string, spanOptions?: SpanOptions, ctx: Context = context.active()): Span {
          const chosen = tracerIn(ctx);
          if (!chosen) throw new Error(`no tracer for the demo service in context`);
          return chosen.startSpan(spanName, spanOptions, ctx);
        },
        // The instrumentations only call startSpan; startActiveSpan delegates with the same routing.
        startActiveSpan(spanName: string, ...rest: unknown[]): ReturnType<Tracer['startActiveSpan']> {
          const fn = rest.at(-1) as (span: Span) => unknown;
          const spanOptions = (rest.length >= 2 ? rest[0] : undefined) as SpanOptions | undefined;
          const ctx = (rest.length >= 3 ? rest[1] : context.active()) as Context;
          const span = tracer.startSpan(spanName, spanOptions, ctx);
          return context.with(ctx, () => fn(span)) as ReturnType<Tracer['startActiveSpan']>;
        },
      };
      return tracer;
    },
  };

  return {
    router,
    forceFlush: async () => {
      await Promise.all([...providers.values()].map((p) => p.forceFlush()));
    },
    shutdown: async () => {
      await Promise.all([...providers.values()].map((p) => p.shutdown()));
      if (installed) {
        context.disable();
        contextManager.disable();
      }
    },
  };
}
