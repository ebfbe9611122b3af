import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { register, traceLLMCall } from '@modelwatch/instrumentation';
import { startOtlpReceiver, type OtlpReceiver } from './test-support/otlp-receiver.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

describe('register() with a real OTLP/HTTP receiver', () => {
  let receiver: OtlpReceiver;
  before(async () => {
    receiver = await startOtlpReceiver();
  });
  after(() => receiver.close());

  it('exports traceLLMCall spans with resource and GenAI attributes', async () => {
    const handle = register({
      endpoint: receiver.url,
      serviceName: 'register-test',
      resourceAttributes: { 'deployment.environment.name': 'test' },
    });
    try {
      const result = await traceLLMCall(
        { provider: 'anthropic', model: 'claude-sonnet-4-20250514', serverAddress: 'api.anthropic.com' },
        async (call) => {
          call.response({
            responseModel: 'claude-sonnet-4-20250514',
            inputTokens: 11,
            outputTokens: 22,
            finishReasons: ['end_turn'],
          });
          return 'done';
        },
      );
      assert.equal(result, 'done');
      await handle.forceFlush();
      const [span] = await receiver.waitForSpans(1);
      assert.equal(span?.name, 'chat claude-sonnet-4-20250514');
      assert.equal(span?.resource['service.name'], 'register-test');
      assert.equal(span?.resource['deployment.environment.name'], 'test');
      assert.equal(span?.attributes['gen_ai.provider.name'], 'anthropic');
      assert.equal(span?.attributes['gen_ai.usage.input_tokens'], 11);
      assert.equal(span?.attributes['modelwatch.model.family'], 'claude-sonnet');
      assert.equal(span?.attributes['modelwatch.model.version'], '4');
      assert.deepEqual(span?.attributes['gen_ai.response.finish_reasons'], ['end_turn']);
    } finally {
      await handle.shutdown();
    }
  });

  it('with the endpoint down: calls succeed as fast as before, the queue is bounded, drops are counted, shutdown is bounded', async () => {
    const handle = register({
      endpoint: await closedPortUrl(),
      maxQueueSize: 20,
      exportTimeoutMs: 500,
      scheduledDelayMs: 60_000,
      instrumentations: [],
    });
    try {
      const slowestMs = { value: 0 };
      for (let i = 0; i < 500; i++) {
        const started = performance.now();
        const value = await traceLLMCall({ provider: 'openai', model: 'gpt-4o' }, async () => i);
        assert.equal(value, i);
        slowestMs.value = Math.max(slowestMs.value, performance.now() - started);
      }
      // A call never waits for the exporter: each is microseconds of span work, even with exports failing.
      assert.ok(slowestMs.value < 100, `slowest call took ${slowestMs.value.toFixed(1)} ms`);
      assert.ok(handle.droppedSpans() > 0, 'spans beyond the queue bound are dropped and counted');
      assert.ok(handle.droppedSpans() <= 500);
    } finally {
      const started = Date.now();
      await handle.shutdown();
      const tookMs = Date.now() - started;
      assert.ok(tookMs < 3000, `shutdown took ${tookMs} ms`);
    }
  });

  it('node --import …/register-hook.ts traces an ESM app with no code change, flushing on exit', async () => {
    const before = receiver.spans.length;
    const child = spawn(
      process.execPath,
      [
        '--conditions=source',
        '--import',
        'tsx',
        '--import',
        './instrumentation/src/register-hook.ts',
        'test/instrumentation/fixtures/manual-call-app.mjs',
      ],
      {
        cwd: repoRoot,
        env: {
          ...process.env,
          OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
          OTEL_EXPORTER_OTLP_HEADERS: 'x-modelwatch-token=t0k3n',
          OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=ci',
          OTEL_SERVICE_NAME: 'esm-fixture',
          OTEL_LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.on('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    assert.equal(code, 0, stderr);
    const spans = await receiver.waitForSpans(before + 1);
    const span = spans.slice(before).find((s) => s.resource['service.name'] === 'esm-fixture');
    assert.ok(span, `no span from the fixture; stderr: ${stderr}`);
    assert.equal(span.name, 'chat gpt-4o-mini');
    assert.equal(span.attributes['gen_ai.usage.output_tokens'], 4);
    // The standard OTel env vars reach the exporter and the resource.
    assert.equal(span.requestHeaders['x-modelwatch-token'], 't0k3n');
    assert.equal(span.resource['deployment.environment.name'], 'ci');
  });
});
