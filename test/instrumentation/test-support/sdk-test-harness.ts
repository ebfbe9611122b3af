/**
 * Shared by the SDK tests (OpenAI, Anthropic, Bedrock, Gemini): one instrumentation + in-memory tracing +
 * local simulator per suite with its hooks, a wait for spans that end asynchronously (after the SDK's
 * promise settles), and the credential check.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before } from 'node:test';
import type { ReadableSpan, TracerProvider } from '@opentelemetry/sdk-trace';
import type { AttributeValue } from '@opentelemetry/api';
import type { RespondFn, Simulator, SimulatorOptions } from '../../../ingest/src/simulators/reply.js';
import { setupInMemoryTracing, type InMemoryTracing } from './in-memory-tracing.js';

export { setupInMemoryTracing, type InMemoryTracing };

/** API keys the tests give the SDK clients; none may ever appear on a span. */
export const TEST_API_KEY = 'sk-modelwatch-test-SECRET-0123456789';

/** Waits until at least `count` spans have ended (the span ends a few microtasks after the caller's await). */
export async function waitForSpans(
  tracing: InMemoryTracing,
  count: number,
  timeoutMs = 3000,
): Promise<ReadableSpan[]> {
  const deadline = Date.now() + timeoutMs;
  while (tracing.spans().length < count) {
    if (Date.now() > deadline) {
      assert.fail(`expected ${count} finished span(s), got ${tracing.spans().length} after ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  return tracing.spans();
}

/** The single span a test produced (fails on zero or more than one). */
export async function onlySpan(tracing: InMemoryTracing): Promise<ReadableSpan> {
  const spans = await waitForSpans(tracing, 1);
  // Give a wrongly duplicated span the chance to show up before asserting there is exactly one.
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal(
    tracing.spans().length,
    1,
    `spans: ${tracing
      .spans()
      .map((s) => s.name)
      .join(', ')}`,
  );
  return spans[0]!;
}

function valuesOf(value: AttributeValue | undefined): string[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value.map(String) : [String(value)];
}

/** Asserts that no attribute, event attribute or status message of any span carries a credential. */
export function assertNoCredentials(
  spans: readonly ReadableSpan[],
  secrets: readonly string[] = [TEST_API_KEY],
): void {
  for (const span of spans) {
    const texts: string[] = [span.name, span.status.message ?? ''];
    for (const [key, value] of Object.entries(span.attributes)) texts.push(key, ...valuesOf(value));
    for (const event of span.events) {
      for (const [key, value] of Object.entries(event.attributes ?? {})) texts.push(key, ...valuesOf(value));
    }
    for (const text of texts) {
      for (const secret of secrets)
        assert.ok(!text.includes(secret), `span "${span.name}" carries a credential: ${text}`);
      assert.ok(!/bearer\s/i.test(text), `span "${span.name}" carries an Authorization value: ${text}`);
      assert.ok(
        !/^(authorization|x-api-key|api-key)$/i.test(text),
        `span "${span.name}" records an auth header: ${text}`,
      );
    }
  }
}

/** What the harness needs of an instrumentation: the SDK instrumentations all have these. */
export interface SdkInstrumentation {
  setTracerProvider(provider: TracerProvider): void;
  manuallyInstrument(moduleExports: unknown): void;
  manuallyUninstrument?(moduleExports: unknown): void;
}

export interface SimulatedSdkOptions {
  instrumentation: SdkInstrumentation;
  /** SDK module namespaces to instrument (manuallyInstrument: aliases and ESM namespaces have no hook). */
  modules: readonly unknown[];
  startSimulator: (options: SimulatorOptions) => Promise<Simulator>;
  /**
   * Undoes the instrumentation after the suite.
   * @default manuallyUninstrument of each module (when the instrumentation has it)
   */
  uninstrument?: () => void;
  /** Runs before the simulator closes, e.g. to destroy clients that keep HTTP/2 sessions open. */
  beforeClose?: () => void;
  /**
   * Checks each test's spans before they are forgotten; false keeps the spans (the suite resets them).
   * @default assertNoCredentials
   */
  afterEachTest?: ((spans: ReadableSpan[]) => void) | false;
}

export interface SimulatedSdk {
  readonly tracing: InMemoryTracing;
  /** The running simulator (set by the suite's before hook). */
  readonly sim: Simulator;
  /** Asked per request by the simulator; each test sets the replies it needs. */
  scenario: RespondFn;
  /** Options for a Stainless client (`new OpenAI(...)`, `new Anthropic(...)`) pointed at the simulator. */
  clientOptions(options?: { maxRetries?: number; timeoutMs?: number }): {
    baseURL: string;
    apiKey: string;
    maxRetries: number;
    timeout: number;
  };
}

/**
 * Registers before/afterEach/after hooks on the current suite (call it inside `describe`, or at the top
 * level of a file for a file-wide suite): instrument the modules with an in-memory tracer provider, start
 * the simulator, check and forget each test's spans, then uninstrument, close and shut down.
 */
export function useSimulatedSdk(options: SimulatedSdkOptions): SimulatedSdk {
  const tracing = setupInMemoryTracing();
  const { instrumentation, modules } = options;
  instrumentation.setTracerProvider(tracing.provider);
  let sim: Simulator | undefined;
  const harness: SimulatedSdk = {
    tracing,
    get sim(): Simulator {
      assert.ok(sim, 'the simulator starts in the before hook');
      return sim;
    },
    scenario: () => ({ kind: 'success' }),
    clientOptions: (client = {}) => ({
      baseURL: harness.sim.baseURL,
      apiKey: TEST_API_KEY,
      maxRetries: client.maxRetries ?? 0,
      timeout: client.timeoutMs ?? 5000,
    }),
  };
  before(async () => {
    for (const moduleExports of modules) instrumentation.manuallyInstrument(moduleExports);
    sim = await options.startSimulator({ respond: (request) => harness.scenario(request) });
  });
  const afterEachTest = options.afterEachTest ?? assertNoCredentials;
  if (afterEachTest) {
    afterEach(() => {
      afterEachTest(tracing.spans());
      tracing.reset();
    });
  }
  after(async () => {
    if (options.uninstrument) options.uninstrument();
    else for (const moduleExports of modules) instrumentation.manuallyUninstrument?.(moduleExports);
    options.beforeClose?.();
    await sim?.close();
    await tracing.shutdown();
  });
  return harness;
}
