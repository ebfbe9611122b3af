/**
 * Per-call overhead of modelwatch's OpenAI instrumentation against no instrumentation and against the
 * OpenTelemetry contrib `@opentelemetry/instrumentation-openai`, in one process, interleaved.
 *
 *   npm run bench:instrumentation [-- --calls 3000 --block 100 --rounds 30 --batch 64 --concurrency 16 --source]
 *
 * Target (from the overhead issue): our added median latency ≤ 0.5× contrib's, streaming and not, while our
 * span carries more (model version, failure class, TTFT). Wall time on a shared machine is noisy, so CPU
 * time per call (process.cpuUsage) is the primary signal; both are judged, each with a PASS/MISS line.
 *
 * Method:
 * - The simulator runs in a SEPARATE child process (its CPU is not ours); calls go over real HTTP.
 * - All arms use `openai` 6 (alias `openai-v6`): contrib 0.22 supports `openai` <7 only. modelwatch is the
 *   compiled package by default (see bench-arms.ts `loadModelwatch`; `--source` for the TS source).
 * - Sequential modes interleave the arms in blocks of `--block` calls (rotating which goes first) and measure
 *   every call alone: wall time and CPU time. Per-call CPU medians are robust to the neighbours' bursts and
 *   GC pauses, which land in whichever call is running. Added latency = median over blocks of (the arm's block
 *   median − the baseline's block median in the same rotation); added CPU = arm median − baseline median.
 *   Blocks are long enough (100 calls) for each arm to reach the steady state a service runs in: switching arms
 *   patches and unpatches `Completions.prototype`, which invalidates V8's inline caches for every call site
 *   that goes through that prototype, and with blocks of 5 a fifth of each arm's calls ran re-warming code
 *   (and an arm's span work deferred past its last call was billed to the next arm). `--block 5` reproduces
 *   that cold, switching measurement.
 * - In-flight modes run `--batch` calls with `--concurrency` workers per arm and round, arms rotating each
 *   round; CPU per call is per batch, added CPU is the median over rounds of (arm − baseline in the same
 *   round). Latency quantiles pool every call.
 * - Every mode starts with a discarded warm-up of each arm. Arms are patched/unpatched outside measured time.
 * - The simulator answers at once unless a mode says `provider N ms` (`--provider-ms`, default 2): then it
 *   takes that long to answer (a stream: to send its first chunk), timed to ~10 µs. Answering at once keeps
 *   the client's CPU busy ~90 % of each call, so added latency there is added CPU, including work an
 *   instrumentation defers until the process waits for I/O; with a provider that takes time, as real ones
 *   do (hundreds of ms), added latency is what runs on the caller's path.
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createArms, loadModelwatch, startSimulatorProcess, type Arm, type ArmName } from './bench-arms.js';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '3000' },
    rounds: { type: 'string', default: '30' },
    batch: { type: 'string', default: '64' },
    concurrency: { type: 'string', default: '16' },
    'long-chunks': { type: 'string', default: '100' },
    block: { type: 'string', default: '100' },
    'provider-ms': { type: 'string', default: '2' },
    source: { type: 'boolean', default: false },
  },
});
const CALLS = Number(values.calls);
const ROUNDS = Number(values.rounds);
const BATCH = Number(values.batch);
const CONCURRENCY = Number(values.concurrency);
const LONG_CHUNKS = Number(values['long-chunks']);
/** Calls per arm before switching arms in the sequential modes. */
const BLOCK = Number(values.block);
/** The provider's answer time in the modes that have one (real providers take 100s of ms). */
const PROVIDER_DELAY_US = Math.round(Number(values['provider-ms']) * 1000);
const TARGET_RATIO = 0.5;

const { module: modelwatch, label } = await loadModelwatch(values.source);
const sim = await startSimulatorProcess();
const { arms, openaiVersion, newClient, shutdown } = createArms(modelwatch);
const client = newClient(sim.baseURL);
const messages = [{ role: 'user' as const, content: 'hi' }];

interface Mode {
  name: string;
  /** Content chunks per streamed completion; 0 for a JSON (non-streaming) call. */
  chunks: number;
  concurrency: number;
  /** Sequential modes: calls per arm (long streams take fewer). */
  calls: number;
  /** How long the provider takes to answer (JSON) or to send the first chunk (stream), µs; 0: at once. */
  providerDelayUs: number;
}
const delayed = `, provider ${PROVIDER_DELAY_US / 1000} ms`;
const modes: Mode[] = [
  { name: 'sequential JSON', chunks: 0, concurrency: 1, calls: CALLS, providerDelayUs: 0 },
  {
    name: `sequential JSON${delayed}`,
    chunks: 0,
    concurrency: 1,
    calls: CALLS,
    providerDelayUs: PROVIDER_DELAY_US,
  },
  { name: 'sequential stream 4 chunks', chunks: 4, concurrency: 1, calls: CALLS, providerDelayUs: 0 },
  {
    name: `sequential stream 4 chunks${delayed}`,
    chunks: 4,
    concurrency: 1,
    calls: CALLS,
    providerDelayUs: PROVIDER_DELAY_US,
  },
  {
    name: `sequential stream ${LONG_CHUNKS} chunks`,
    chunks: LONG_CHUNKS,
    concurrency: 1,
    calls: Math.max(50, Math.round(CALLS / 3)),
    providerDelayUs: 0,
  },
  {
    name: `${CONCURRENCY} in flight JSON`,
    chunks: 0,
    concurrency: CONCURRENCY,
    calls: 0,
    providerDelayUs: 0,
  },
  {
    name: `${CONCURRENCY} in flight stream 4 chunks`,
    chunks: 4,
    concurrency: CONCURRENCY,
    calls: 0,
    providerDelayUs: 0,
  },
];

async function oneCall(chunks: number, providerDelayUs: number): Promise<void> {
  const delay = providerDelayUs > 0 ? { 'x-bench-delay-us': String(providerDelayUs) } : {};
  if (chunks === 0) {
    await client.chat.completions.create(
      { model: 'gpt-4o-mini', messages },
      providerDelayUs > 0 ? { headers: delay } : undefined,
    );
    return;
  }
  const stream = await client.chat.completions.create(
    { model: 'gpt-4o-mini', messages, stream: true, stream_options: { include_usage: true } },
    { headers: { 'x-bench-chunks': String(chunks), ...delay } },
  );
  for await (const _chunk of stream) {
    // drain, as a caller reading the completion would
  }
}

/** Per arm: every measured call's wall µs, and CPU µs per call (per call, or per batch in flight modes). */
interface Samples {
  latencyUs: number[];
  cpuUs: number[];
  /** Median latency of each block (sequential) or round (in flight), in run order: pairs across arms. */
  blockMedianUs: number[];
}
const emptySamples = (): Record<ArmName, Samples> => ({
  baseline: { latencyUs: [], cpuUs: [], blockMedianUs: [] },
  modelwatch: { latencyUs: [], cpuUs: [], blockMedianUs: [] },
  contrib: { latencyUs: [], cpuUs: [], blockMedianUs: [] },
});

async function withArm<T>(arm: Arm, run: () => Promise<T>): Promise<T> {
  arm.patch();
  try {
    return await run();
  } finally {
    arm.unpatch();
  }
}

async function runSequential(mode: Mode): Promise<Record<ArmName, Samples>> {
  const samples = emptySamples();
  const warmupBlocks = Math.ceil(Math.min(60, mode.calls / 4) / BLOCK);
  const blocks = warmupBlocks + Math.ceil(mode.calls / BLOCK);
  for (let block = 0; block < blocks; block++) {
    for (let k = 0; k < arms.length; k++) {
      const arm = arms[(block + k) % arms.length]!;
      const blockUs: number[] = [];
      await withArm(arm, async () => {
        for (let i = 0; i < BLOCK; i++) {
          const cpuBefore = process.cpuUsage();
          const start = performance.now();
          await oneCall(mode.chunks, mode.providerDelayUs);
          const wallUs = (performance.now() - start) * 1000;
          const cpu = process.cpuUsage(cpuBefore);
          if (block < warmupBlocks) continue;
          blockUs.push(wallUs);
          samples[arm.name].latencyUs.push(wallUs);
          samples[arm.name].cpuUs.push(cpu.user + cpu.system);
        }
      });
      if (block >= warmupBlocks) samples[arm.name].blockMedianUs.push(median(blockUs));
    }
  }
  return samples;
}

async function runInFlight(mode: Mode): Promise<Record<ArmName, Samples>> {
  const samples = emptySamples();
  for (let round = 0; round <= ROUNDS; round++) {
    for (let k = 0; k < arms.length; k++) {
      const arm = arms[(round + k) % arms.length]!;
      const latencies: number[] = [];
      const cpuUs = await withArm(arm, async () => {
        let next = 0;
        const cpuBefore = process.cpuUsage();
        const worker = async (): Promise<void> => {
          while (next < BATCH) {
            next++;
            const start = performance.now();
            await oneCall(mode.chunks, mode.providerDelayUs);
            latencies.push((performance.now() - start) * 1000);
          }
        };
        await Promise.all(Array.from({ length: mode.concurrency }, worker));
        const cpu = process.cpuUsage(cpuBefore);
        return (cpu.user + cpu.system) / BATCH;
      });
      if (round === 0) continue; // warm-up
      samples[arm.name].latencyUs.push(...latencies);
      samples[arm.name].blockMedianUs.push(median(latencies));
      samples[arm.name].cpuUs.push(cpuUs);
    }
  }
  return samples;
}

function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index]!;
}
const median = (values: readonly number[]): number => quantile(values, 0.5);

interface ArmResult {
  medianUs: number;
  p99Us: number;
  cpuUs: number;
  addedMedianUs: number;
  addedP99Us: number;
  addedCpuUs: number;
}

function summarise(mode: Mode, samples: Record<ArmName, Samples>): Record<ArmName, ArmResult> {
  const base = samples.baseline;
  const baseP99 = quantile(base.latencyUs, 0.99);
  const baseCpu = median(base.cpuUs);
  const out = {} as Record<ArmName, ArmResult>;
  for (const arm of arms) {
    const s = samples[arm.name];
    const medianUs = median(s.latencyUs);
    const p99Us = quantile(s.latencyUs, 0.99);
    const cpuUs = median(s.cpuUs);
    // In flight: pair each round's batch with the baseline's batch of the same round (same neighbours).
    const addedCpuUs =
      mode.concurrency > 1 ? median(s.cpuUs.map((cpu, round) => cpu - base.cpuUs[round]!)) : cpuUs - baseCpu;
    // Added latency pairs each block with the baseline's block of the same rotation (run seconds apart), so
    // the machine's drift over the run (frequency, the simulator's GC, neighbours) cancels out; pooled medians
    // of the whole run moved by ±30 µs between runs, more than the differences measured.
    const addedMedianUs = median(s.blockMedianUs.map((m, block) => m - base.blockMedianUs[block]!));
    out[arm.name] = {
      medianUs,
      p99Us,
      cpuUs,
      addedMedianUs,
      addedP99Us: p99Us - baseP99,
      addedCpuUs,
    };
  }
  return out;
}

const startedMs = performance.now();
console.log(`openai-overhead: openai ${openaiVersion} (alias openai-v6) for all arms; modelwatch = ${label}`);
console.log(
  `sequential: ${CALLS} calls per arm (${Math.max(50, Math.round(CALLS / 3))} for ${LONG_CHUNKS}-chunk streams) in blocks of ${BLOCK}; ` +
    `in flight: ${ROUNDS} rounds × ${BATCH} calls per arm; warm-up discarded`,
);

const results: Array<[Mode, Record<ArmName, ArmResult>]> = [];
for (const mode of modes) {
  const samples = mode.concurrency > 1 ? await runInFlight(mode) : await runSequential(mode);
  results.push([mode, summarise(mode, samples)]);
}

const num = (n: number, width = 9): string => (Number.isFinite(n) ? n.toFixed(1) : 'n/a').padStart(width);
const ratioOf = (ours: number, theirs: number): number => (theirs > 0 ? Math.max(0, ours) / theirs : NaN);
const ratioText = (r: number): string =>
  Number.isFinite(r) ? `${r.toFixed(2)}×` : 'n/a (contrib added ≤ 0)';

console.log('');
console.log(
  `${'mode'.padEnd(32)} ${'arm'.padEnd(10)} median µs    p99 µs +median µs   +p99 µs  CPU µs/call +CPU µs/call`,
);
for (const [mode, byArm] of results) {
  for (const arm of arms) {
    const r = byArm[arm.name];
    const base = arm.name === 'baseline';
    console.log(
      `${mode.name.padEnd(32)} ${arm.name.padEnd(10)} ${num(r.medianUs)} ${num(r.p99Us)} ${base ? ' '.repeat(10) : num(r.addedMedianUs, 10)} ${base ? ' '.repeat(9) : num(r.addedP99Us)} ${num(r.cpuUs, 12)} ${base ? '' : num(r.addedCpuUs, 12)}`,
    );
  }
}

console.log('');
console.log('ours/contrib (added over baseline)   median latency   p99 latency   CPU per call');
const verdicts: string[] = [];
for (const [mode, byArm] of results) {
  const ours = byArm.modelwatch;
  const theirs = byArm.contrib;
  const latency = ratioOf(ours.addedMedianUs, theirs.addedMedianUs);
  const p99 = ratioOf(ours.addedP99Us, theirs.addedP99Us);
  const cpu = ratioOf(ours.addedCpuUs, theirs.addedCpuUs);
  const cell = (r: number): string => (Number.isFinite(r) ? `${r.toFixed(2)}×` : 'n/a').padStart(8);
  console.log(`${mode.name.padEnd(36)} ${cell(latency)}        ${cell(p99)}     ${cell(cpu)}`);
  const verdict = (r: number): string => (Number.isFinite(r) && r <= TARGET_RATIO ? 'PASS' : 'MISS');
  verdicts.push(
    `${verdict(cpu)}  ${mode.name}: added CPU ≤ ${TARGET_RATIO}× contrib's — ${ratioText(cpu)} (ours +${ours.addedCpuUs.toFixed(1)} µs, contrib +${theirs.addedCpuUs.toFixed(1)} µs per call)`,
    `${verdict(latency)}  ${mode.name}: added median latency ≤ ${TARGET_RATIO}× contrib's — ${ratioText(latency)} (ours +${ours.addedMedianUs.toFixed(1)} µs, contrib +${theirs.addedMedianUs.toFixed(1)} µs)`,
  );
}

await shutdown();
console.log('');
for (const arm of arms) {
  const tally = arm.tally();
  if (!tally) continue;
  console.log(
    `${arm.name.padEnd(10)} spans exported ${tally.spans}, ${(tally.attributes / Math.max(1, tally.spans)).toFixed(1)} attributes per span, ` +
      `model version on ${tally.withModelVersion}, TTFT on ${tally.withTtft}`,
  );
}
console.log('');
for (const line of verdicts) console.log(line);
console.log(`wall ${((performance.now() - startedMs) / 1000).toFixed(1)} s`);
await sim.stop();
