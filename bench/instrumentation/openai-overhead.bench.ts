/**
 * Per-call overhead of modelwatch's OpenAI instrumentation against no instrumentation and against the
 * OpenTelemetry contrib `@opentelemetry/instrumentation-openai`, measured in the same process, interleaved.
 *
 *   npm run bench:instrumentation [-- --rounds 4 --calls 150 --concurrency 16]
 *
 * Method:
 * - The simulator runs in a SEPARATE child process (its CPU is not ours); calls go over real HTTP.
 * - All three arms use `openai` 6 (the npm alias `openai-v6`): contrib 0.22 supports `openai` <7 only.
 * - Arms are patched and unpatched between batches (ours: manuallyInstrument/manuallyUninstrument; contrib:
 *   its module definition's patch/unpatch), in a rotating order per round, so drift (GC, JIT, noisy
 *   neighbours) hits every arm alike. A warm-up round is discarded.
 * - Both instrumentations get an identical TracerProvider: BatchSpanProcessor → an exporter that accepts
 *   and drops every batch, so span creation and processing are measured, not network export. Contrib's
 *   log events and metrics go to the API's no-op global providers (its default when none are set up).
 * - Reported per mode (sequential / N in flight × JSON / stream): median and p99 wall time added per call
 *   vs the baseline arm, and CPU µs per call (process.cpuUsage over the batch ÷ calls) added vs baseline.
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { metrics } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OpenAIInstrumentation as ContribOpenAIInstrumentation } from '@opentelemetry/instrumentation-openai';
import { BatchSpanProcessor, TracerProvider, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace';
import OpenAI from 'openai-v6';
import * as openaiV6Module from 'openai-v6';
import { OpenAIInstrumentation } from '@modelwatch/instrumentation';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '4' },
    calls: { type: 'string', default: '150' },
    concurrency: { type: 'string', default: '16' },
  },
});
const ROUNDS = Number(values.rounds);
const CALLS = Number(values.calls);
const CONCURRENCY = Number(values.concurrency);

/** Accepts and drops every batch; counts spans so we can check each arm really produced them. */
class DroppingExporter implements SpanExporter {
  spans = 0;
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.spans += spans.length;
    done({ code: ExportResultCode.SUCCESS });
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

function tracerProvider(exporter: SpanExporter): TracerProvider {
  return new TracerProvider({
    spanProcessors: [new BatchSpanProcessor({ exporter, maxQueueSize: 8192, maxExportBatchSize: 512, scheduledDelayMillis: 200 })],
  });
}

async function startSimulatorProcess(): Promise<{ baseURL: string; stop(): Promise<void> }> {
  const script = fileURLToPath(new URL('./openai-simulator-process.ts', import.meta.url));
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const baseURL = await new Promise<string>((resolve, reject) => {
    let buffered = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const line = buffered.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve((JSON.parse(line) as { baseURL: string }).baseURL);
    });
    child.once('exit', (code) => reject(new Error(`simulator exited early (${code})`)));
  });
  return {
    baseURL,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.stdin.end();
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  };
}

type ArmName = 'baseline' | 'modelwatch' | 'contrib';
interface Arm {
  name: ArmName;
  patch(): void;
  unpatch(): void;
  exporter?: DroppingExporter;
}
interface Mode {
  name: string;
  stream: boolean;
  concurrency: number;
}
interface Samples {
  latenciesUs: number[];
  cpuUs: number;
  calls: number;
}

const sim = await startSimulatorProcess();
const client = new OpenAI({ baseURL: sim.baseURL, apiKey: 'sk-bench', maxRetries: 0 });
const messages = [{ role: 'user' as const, content: 'hi' }];

const oursExporter = new DroppingExporter();
const oursProvider = tracerProvider(oursExporter);
const ours = new OpenAIInstrumentation();
ours.setTracerProvider(oursProvider);

const contribExporter = new DroppingExporter();
const contribProvider = tracerProvider(contribExporter);
const contrib = new ContribOpenAIInstrumentation();
contrib.setTracerProvider(contribProvider);
// Contrib 0.22 creates its histograms in _updateMetricInstruments(), which the base constructor runs before
// the subclass fields exist; the fields then reset to undefined and stream calls throw. NodeSDK calls
// setMeterProvider() after construction, which recreates them: do the same (with the API's no-op provider).
contrib.setMeterProvider(metrics.getMeterProvider());
const contribDefinition = contrib.getModuleDefinitions()[0]!;
const openaiVersion = (OpenAI as unknown as { VERSION?: string }).VERSION ?? '6';

const arms: Arm[] = [
  { name: 'baseline', patch: () => undefined, unpatch: () => undefined },
  { name: 'modelwatch', patch: () => ours.manuallyInstrument(openaiV6Module), unpatch: () => ours.manuallyUninstrument(openaiV6Module), exporter: oursExporter },
  {
    name: 'contrib',
    patch: () => void contribDefinition.patch?.(openaiV6Module, openaiVersion),
    unpatch: () => contribDefinition.unpatch?.(openaiV6Module, openaiVersion),
    exporter: contribExporter,
  },
];
const modes: Mode[] = [
  { name: 'sequential JSON', stream: false, concurrency: 1 },
  { name: 'sequential stream', stream: true, concurrency: 1 },
  { name: `${CONCURRENCY} in flight JSON`, stream: false, concurrency: CONCURRENCY },
  { name: `${CONCURRENCY} in flight stream`, stream: true, concurrency: CONCURRENCY },
];

async function oneCall(stream: boolean): Promise<number> {
  const start = performance.now();
  if (stream) {
    const s = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true, stream_options: { include_usage: true } });
    for await (const _chunk of s) {
      // drain
    }
  } else {
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages });
  }
  return (performance.now() - start) * 1000;
}

async function runBatch(mode: Mode, calls: number): Promise<Samples> {
  const latenciesUs: number[] = [];
  let next = 0;
  const cpuBefore = process.cpuUsage();
  const worker = async (): Promise<void> => {
    while (next < calls) {
      next++;
      latenciesUs.push(await oneCall(mode.stream));
    }
  };
  await Promise.all(Array.from({ length: mode.concurrency }, worker));
  const cpu = process.cpuUsage(cpuBefore);
  return { latenciesUs, cpuUs: cpu.user + cpu.system, calls };
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index]!;
}

const results = new Map<string, Samples>();
const key = (mode: Mode, arm: Arm): string => `${mode.name}|${arm.name}`;
const startedMs = performance.now();
console.log(`openai-overhead: openai ${openaiVersion} (alias openai-v6) for all arms; ${ROUNDS} rounds × ${CALLS} calls per arm and mode (+1 warm-up round)`);

for (let round = 0; round <= ROUNDS; round++) {
  for (const mode of modes) {
    // Rotate the arm order each round so no arm always runs first (or right after GC-heavy work).
    const order = arms.map((_, i) => arms[(i + round) % arms.length]!);
    for (const arm of order) {
      arm.patch();
      try {
        const batch = await runBatch(mode, round === 0 ? Math.min(50, CALLS) : CALLS);
        if (round === 0) continue; // warm-up
        const total = results.get(key(mode, arm)) ?? { latenciesUs: [], cpuUs: 0, calls: 0 };
        total.latenciesUs.push(...batch.latenciesUs);
        total.cpuUs += batch.cpuUs;
        total.calls += batch.calls;
        results.set(key(mode, arm), total);
      } finally {
        arm.unpatch();
      }
    }
  }
}
await Promise.all([oursProvider.forceFlush(), contribProvider.forceFlush()]);

const fmt = (n: number): string => (Number.isFinite(n) ? n.toFixed(1).padStart(8) : '     n/a');
console.log('');
console.log('mode                   arm         median µs   p99 µs  +median µs  +p99 µs   CPU µs/call  +CPU µs/call');
const summary: string[] = [];
for (const mode of modes) {
  const base = results.get(key(mode, arms[0]!))!;
  const baseSorted = [...base.latenciesUs].sort((a, b) => a - b);
  const baseMedian = quantile(baseSorted, 0.5);
  const baseP99 = quantile(baseSorted, 0.99);
  const baseCpu = base.cpuUs / base.calls;
  const added: Partial<Record<ArmName, { median: number; cpu: number }>> = {};
  for (const arm of arms) {
    const s = results.get(key(mode, arm))!;
    const sorted = [...s.latenciesUs].sort((a, b) => a - b);
    const median = quantile(sorted, 0.5);
    const p99 = quantile(sorted, 0.99);
    const cpu = s.cpuUs / s.calls;
    added[arm.name] = { median: median - baseMedian, cpu: cpu - baseCpu };
    console.log(
      `${mode.name.padEnd(22)} ${arm.name.padEnd(10)} ${fmt(median)} ${fmt(p99)} ${arm.name === 'baseline' ? '        ' : fmt(median - baseMedian)}  ${arm.name === 'baseline' ? '        ' : fmt(p99 - baseP99)}   ${fmt(cpu)}     ${arm.name === 'baseline' ? '' : fmt(cpu - baseCpu)}`,
    );
  }
  const o = added.modelwatch!;
  const c = added.contrib!;
  summary.push(
    `${mode.name}: ours/contrib added median ${(o.median / c.median).toFixed(2)}×, added CPU ${(o.cpu / c.cpu).toFixed(2)}× (ours +${o.cpu.toFixed(1)} µs CPU, contrib +${c.cpu.toFixed(1)} µs CPU per call)`,
  );
}
console.log('');
for (const line of summary) console.log(line);
console.log(`spans exported: modelwatch ${oursExporter.spans}, contrib ${contribExporter.spans}; wall ${((performance.now() - startedMs) / 1000).toFixed(1)} s`);

await Promise.all([oursProvider.shutdown(), contribProvider.shutdown()]);
await sim.stop();
