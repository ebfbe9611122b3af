/**
 * Zero-code ESM tracing: an app that only `import`s @google/genai, started with
 * `--import ./instrumentation/src/register-hook.ts`, exports its span over OTLP/HTTP (JSON) to a receiver
 * in this test. Proves the loader hook patches the ESM build and the exporter flushes on exit.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { after, before, it } from 'node:test';
import { startGoogleGenAISimulator } from '../../../ingest/src/simulators/google-genai-server.js';
import type { Simulator } from '../../../ingest/src/simulators/reply.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const fixture = fileURLToPath(new URL('./fixtures/esm-app.mjs', import.meta.url));

interface OtlpAttribute {
  key: string;
  value: { stringValue?: string; intValue?: string | number; boolValue?: boolean };
}
interface OtlpSpan {
  name: string;
  attributes?: OtlpAttribute[];
}
interface OtlpRequest {
  resourceSpans?: { scopeSpans?: { scope?: { name?: string }; spans?: OtlpSpan[] }[] }[];
}

let sim: Simulator;
let receiver: Server;
let receiverUrl: string;
const exports: { contentType: string | undefined; body: OtlpRequest }[] = [];

before(async () => {
  sim = await startGoogleGenAISimulator({
    respond: () => ({ kind: 'success', model: 'gemini-2.5-flash-001', inputTokens: 4, outputTokens: 9 }),
  });
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/v1/traces') {
        exports.push({
          contentType: req.headers['content-type'],
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpRequest,
        });
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});

after(async () => {
  await sim.close();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
});

it('traces an unmodified ESM app started with --import register-hook', async () => {
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', '--import', './instrumentation/src/register-hook.ts', fixture],
    {
      cwd: root,
      env: {
        ...process.env,
        SIM_URL: sim.baseURL,
        OTEL_EXPORTER_OTLP_ENDPOINT: receiverUrl,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_SERVICE_NAME: 'esm-fixture',
        OTEL_TRACES_SAMPLER: 'always_on',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const killTimer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearTimeout(killTimer);
  assert.equal(code, 0, `fixture failed:\n${stderr}`);
  assert.match(stdout, /quick brown fox/);

  const spans = exports
    .flatMap((e) => e.body.resourceSpans ?? [])
    .flatMap((r) => r.scopeSpans ?? [])
    .flatMap((s) => s.spans ?? []);
  const span = spans.find((s) => s.name === 'generate_content gemini-2.5-flash');
  assert.ok(
    span,
    `no generate_content span among: ${spans.map((s) => s.name).join(', ') || '(none)'}; stderr:\n${stderr}`,
  );
  const attributes = new Map((span.attributes ?? []).map((a) => [a.key, a.value]));
  assert.equal(attributes.get('gen_ai.provider.name')?.stringValue, 'gcp.gemini');
  assert.equal(attributes.get('gen_ai.response.model')?.stringValue, 'gemini-2.5-flash-001');
  assert.equal(Number(attributes.get('gen_ai.usage.output_tokens')?.intValue), 9);
  assert.ok(!JSON.stringify(exports).includes('esm-fixture-secret-key'), 'the API key never leaves the app');
});
