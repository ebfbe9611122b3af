/**
 * One-call setup: an OpenTelemetry NodeSDK exporting spans over OTLP/HTTP, with a bounded, drop-counting
 * batch queue and modelwatch's SDK instrumentations. Standard OTel env vars apply (read by the SDK and the
 * exporter, not here): OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_EXPORTER_OTLP_ENDPOINT,
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_EXPORTER_OTLP_HEADERS, OTEL_TRACES_SAMPLER, OTEL_SDK_DISABLED.
 *
 * register() never throws: observability must not stop the host from starting. On any setup error it logs
 * through diag and returns a handle whose methods do nothing.
 */
import { context, diag, propagation, trace, type Attributes } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import type { SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace';
import type { ModelwatchInstrumentationConfig } from './config.js';
import { flushPendingLlmSpans } from './deferred-span-end.js';
import { DropCountingBatchSpanProcessor } from './drop-counting-span-processor.js';
import { getModelwatchInstrumentations } from './instrumentations.js';
import { setManualCallConfig } from './trace-llm-call.js';

export interface RegisterOptions {
  /** service.name. @default env OTEL_SERVICE_NAME, else the SDK's `unknown_service:node` */
  serviceName?: string;
  /**
   * OTLP/HTTP base endpoint, e.g. `http://localhost:4318`; `/v1/traces` is appended (the same rule as
   * OTEL_EXPORTER_OTLP_ENDPOINT). @default env OTEL_EXPORTER_OTLP_TRACES_ENDPOINT / OTEL_EXPORTER_OTLP_ENDPOINT,
   * else `http://localhost:4318/v1/traces`
   */
  endpoint?: string;
  /** Extra export headers (e.g. auth for a hosted gateway). @default env OTEL_EXPORTER_OTLP_HEADERS */
  headers?: Record<string, string>;
  /** Added to the resource (e.g. `deployment.environment.name`). @default env OTEL_RESOURCE_ATTRIBUTES */
  resourceAttributes?: Attributes;
  /** Export somewhere else (tests pass an InMemorySpanExporter); still batched and bounded. */
  exporter?: SpanExporter;
  /** Full control over processing; replaces the batch processor and `exporter`. */
  spanProcessors?: SpanProcessor[];
  /** Spans waiting for export at most; more are dropped and counted, never buffered without bound. @default 2048 */
  maxQueueSize?: number;
  /** How long one export may take. @default 5000 */
  exportTimeoutMs?: number;
  /** Delay between batch exports. @default 2000 */
  scheduledDelayMs?: number;
  /** How long shutdown() waits for the last export before giving up. @default exportTimeoutMs + 1000 */
  shutdownTimeoutMs?: number;
  /** Config for the SDK instrumentations and traceLLMCall. */
  instrumentationConfig?: ModelwatchInstrumentationConfig;
  /** Replace the default instrumentations (the four SDK patchers), e.g. `[]` for the manual API only. */
  instrumentations?: Instrumentation[];
}

export interface ModelwatchHandle {
  /** Exports what is queued and stops; resolves within shutdownTimeoutMs even if the endpoint is down. */
  shutdown(): Promise<void>;
  /** Exports what is queued now. */
  forceFlush(): Promise<void>;
  /** Spans dropped so far because the export queue was full (0 with custom spanProcessors). */
  droppedSpans(): number;
}

const NOOP_HANDLE: ModelwatchHandle = {
  shutdown: () => Promise.resolve(),
  forceFlush: () => Promise.resolve(),
  droppedSpans: () => 0,
};

let active: ModelwatchHandle | undefined;

function tracesUrl(endpoint: string): string {
  return `${endpoint.replace(/\/+$/, '')}/v1/traces`;
}

function withTimeout(promise: Promise<void>, timeoutMs: number, what: string): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      diag.warn(`modelwatch: ${what} did not finish within ${timeoutMs} ms; giving up`);
      resolve();
    }, timeoutMs);
    timer.unref();
    promise.then(
      () => {
        clearTimeout(timer);
        resolve();
      },
      (error: unknown) => {
        clearTimeout(timer);
        diag.warn(`modelwatch: ${what} failed`, error);
        resolve();
      },
    );
  });
}

/** Starts tracing LLM calls. Call once, before the LLM SDKs are imported (or use `--import …/register`). */
export function register(options: RegisterOptions = {}): ModelwatchHandle {
  if (active) {
    diag.warn('modelwatch: register() called twice; keeping the first setup');
    return active;
  }
  try {
    const exportTimeoutMs = options.exportTimeoutMs ?? 5000;
    const shutdownTimeoutMs = options.shutdownTimeoutMs ?? exportTimeoutMs + 1000;
    let batch: DropCountingBatchSpanProcessor | undefined;
    let spanProcessors = options.spanProcessors;
    if (!spanProcessors) {
      const exporter =
        options.exporter ??
        new OTLPTraceExporter({
          ...(options.endpoint ? { url: tracesUrl(options.endpoint) } : {}),
          ...(options.headers ? { headers: options.headers } : {}),
          timeoutMillis: exportTimeoutMs,
        });
      batch = new DropCountingBatchSpanProcessor(exporter, {
        maxQueueSize: options.maxQueueSize,
        exportTimeoutMs,
        scheduledDelayMs: options.scheduledDelayMs,
      });
      spanProcessors = [batch];
    }
    setManualCallConfig(options.instrumentationConfig);
    const instrumentations =
      options.instrumentations ?? getModelwatchInstrumentations(options.instrumentationConfig);
    const sdk = new NodeSDK({
      ...(options.serviceName ? { serviceName: options.serviceName } : {}),
      ...(options.resourceAttributes
        ? { resource: defaultResource().merge(resourceFromAttributes(options.resourceAttributes)) }
        : {}),
      spanProcessors,
      instrumentations,
      // modelwatch exports traces only; without these the SDK would also start OTLP metric and log exporters
      // from env defaults and send them to an endpoint that may only accept traces.
      metricReaders: [],
      logRecordProcessors: [],
    });
    sdk.start();
    let stopped: Promise<void> | undefined;
    const handle: ModelwatchHandle = {
      shutdown: () => {
        // Spans of calls that settled in this turn are still waiting to be finished (deferred-span-end.ts).
        flushPendingLlmSpans();
        stopped ??= withTimeout(sdk.shutdown(), shutdownTimeoutMs, 'shutdown').then(() => {
          // Leave the process as before register(): unpatched SDKs and no globals, so a later register()
          // (tests, hot reload) starts clean instead of being refused by the API's set-once globals.
          for (const instrumentation of instrumentations) instrumentation.disable();
          trace.disable();
          context.disable();
          propagation.disable();
          if (active === handle) active = undefined;
          setManualCallConfig(undefined);
        });
        return stopped;
      },
      forceFlush: () => {
        flushPendingLlmSpans();
        return Promise.all(
          spanProcessors.map((p) => withTimeout(p.forceFlush(), shutdownTimeoutMs, 'flush')),
        ).then(() => undefined);
      },
      droppedSpans: () => batch?.droppedSpans ?? 0,
    };
    active = handle;
    return handle;
  } catch (error) {
    diag.warn('modelwatch: register() failed; LLM calls will not be traced', error);
    return NOOP_HANDLE;
  }
}
