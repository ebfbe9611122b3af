/**
 * In-memory tracing for tests: a real SDK TracerProvider whose spans land in an InMemorySpanExporter
 * synchronously (SimpleSpanProcessor). LLM spans end one event-loop turn after their call settles
 * (deferred-span-end.ts); `spans()` finishes the pending ones first, so a test can assert on them right
 * after the call under test returns.
 *
 *   const tracing = setupInMemoryTracing();            // or { registerGlobal: true } for traceLLMCall
 *   instrumentation.setTracerProvider(tracing.provider);
 *   ... after(() => tracing.shutdown());
 */
import { context, trace, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace';
import { flushPendingLlmSpans, INSTRUMENTATION_SCOPE } from '@modelwatch/instrumentation';

export interface InMemoryTracing {
  provider: TracerProvider;
  exporter: InMemorySpanExporter;
  tracer: Tracer;
  /** Finished spans so far, in end order. */
  spans(): ReadableSpan[];
  /** Forgets the finished spans (between test cases). */
  reset(): void;
  /** Shuts the provider down and, when registered globally, unregisters it and the context manager. */
  shutdown(): Promise<void>;
}

export interface InMemoryTracingOptions {
  /**
   * Also install the provider and an AsyncLocalStorage context manager as the OTel globals (what the
   * manual API `traceLLMCall` and any code using `trace.getTracer()` sees).
   * @default false
   */
  registerGlobal?: boolean;
}

export function setupInMemoryTracing(options: InMemoryTracingOptions = {}): InMemoryTracing {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  let contextManager: AsyncLocalStorageContextManager | undefined;
  if (options.registerGlobal) {
    // A previous test in the same process may have left globals behind; the API refuses to overwrite them.
    trace.disable();
    context.disable();
    contextManager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(contextManager);
    trace.setGlobalTracerProvider(provider);
  }
  return {
    provider,
    exporter,
    tracer: provider.getTracer(INSTRUMENTATION_SCOPE),
    spans: () => {
      flushPendingLlmSpans();
      return exporter.getFinishedSpans();
    },
    reset: () => exporter.reset(),
    shutdown: async () => {
      await provider.shutdown();
      if (options.registerGlobal) {
        trace.disable();
        context.disable();
        contextManager?.disable();
      }
    },
  };
}
