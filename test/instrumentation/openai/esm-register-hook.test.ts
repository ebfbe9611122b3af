/**
 * The zero-code path for ESM apps: `node --import <register-hook> app.mjs` where the app does
 * `import OpenAI from 'openai'`. The span must reach a real OTLP/HTTP endpoint (a tiny receiver here).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { startOpenAISimulator } from '../../../ingest/src/simulators/openai-server.js';
import type { Simulator } from '../../../ingest/src/simulators/reply.js';
import { TEST_API_KEY } from '../test-support/sdk-test-harness.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const fixture = fileURLToPath(new URL('./fixtures/esm-openai-call.mjs', import.meta.url));

interface OtlpAttribute {
  key: string;
  value: { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };
}
interface OtlpSpan {
  name: string;
  attributes?: OtlpAttribute[];
}
interface OtlpRequest {
  resourceSpans?: Array<{ scopeSpans?: Array<{ scope?: { name?: string }; spans?: OtlpSpan[] }> }>;
}

describe('ESM app under --import register-hook', () => {
  let sim: Simulator;
  let receiver: Server;
  const received: OtlpRequest[] = [];
  const rawBodies: string[] = [];

  before(async () => {
    sim = await startOpenAISimulator({
      respond: () => ({ kind: 'success', model: 'gpt-4o-mini-2024-07-18' }),
    });
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        rawBodies.push(body);
        if (req.url === '/v1/traces' && (req.headers['content-type'] ?? '').includes('json'))
          received.push(JSON.parse(body) as OtlpRequest);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    await sim.close();
    receiver.closeAllConnections();
    await new Promise((resolve) => receiver.close(resolve));
  });

  it('exports the openai call as a modelwatch span over OTLP/HTTP', async () => {
    const { port } = receiver.address() as AddressInfo;
    const child = spawn(
      process.execPath,
      [
        '--conditions=source',
        '--import',
        'tsx',
        '--import',
        './instrumentation/src/register-hook.ts',
        fixture,
      ],
      {
        cwd: root,
        env: {
          ...process.env,
          OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
          OTEL_SERVICE_NAME: 'esm-fixture',
          SIMULATOR_BASE_URL: sim.baseURL,
          TEST_API_KEY,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    clearTimeout(timer);
    assert.equal(code, 0, `fixture failed: ${stderr}`);
    assert.match(stdout, /quick brown fox/);

    const spans = received
      .flatMap((r) => r.resourceSpans ?? [])
      .flatMap((rs) => rs.scopeSpans ?? [])
      .flatMap((ss) => ss.spans ?? []);
    const span = spans.find((s) => s.name === 'chat gpt-4o-mini');
    assert.ok(
      span,
      `no chat span among ${spans.map((s) => s.name).join(', ') || 'nothing'} (bodies: ${rawBodies.length}); stderr: ${stderr}`,
    );
    const attr = (key: string): unknown => {
      const value = span.attributes?.find((a) => a.key === key)?.value;
      return value?.stringValue ?? value?.intValue ?? value?.boolValue ?? value?.doubleValue;
    };
    assert.equal(attr('gen_ai.provider.name'), 'openai');
    assert.equal(attr('gen_ai.response.model'), 'gpt-4o-mini-2024-07-18');
    assert.equal(attr('modelwatch.model.family'), 'gpt-4o-mini');
    assert.ok(!rawBodies.some((body) => body.includes(TEST_API_KEY)), 'the API key reached the exporter');
  });
});
