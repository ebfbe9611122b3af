/**
 * Shared by the OpenAI and Anthropic SDK tests: one instrumentation + in-memory tracing per test file, a
 * wait for spans that end asynchronously (after the SDK's promise settles), and the credential check.
 */
import assert from 'node:assert/strict';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type { AttributeValue } from '@opentelemetry/api';
import { setupInMemoryTracing, type InMemoryTracing } from '../test-support/in-memory-tracing.js';

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
