/**
 * Where the latency an instrumentation adds to one call goes, split at the wire. The simulator
 * (timing-simulator-process.ts, another process) notes on the machine's monotonic clock when each request
 * arrived and when it answered; the client notes when it called `create()`, when `create()` returned, when
 * the request was first written to a socket, and when the caller resumed (JSON: the await returned; stream:
 * the loop ended). Per arm (no instrumentation, modelwatch, contrib; arms alternate every 10 calls as in
 * openai-overhead.bench.ts, the first of each turn not counted) it prints the median of:
 *   create()  — the synchronous part of `create()`;
 *   written   — `create()` called → request written to the socket;
 *   arrived   — `create()` called → request arrived at the simulator;
 *   resumed   — simulator answered → caller resumed;
 * and each instrumentation's added median per stage (paired by block of 90 calls against the baseline).
 * A diagnostic, not a target: it is how the on-path costs of session 7 were located (docs/design-notes.md).
 *
 *   npm run bench:instrumentation:split [-- --calls 3000 --provider-ms 2 --stream]
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type OpenAI from 'openai-v6';
import { createArms, loadModelwatch, startSimulatorProcess, type ArmName } from './bench-arms.js';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '3000' },
    'provider-ms': { type: 'string', default: '2' },
    stream: { type: 'boolean', default: false },
    source: { type: 'boolean', default: false },
  },
});
const CALLS = Number(values.calls);
const DELAY_US = String(Math.round(Number(values['provider-ms']) * 1000));
const RUN = 10;
const WARMUP_RUNS = 6;
const BLOCK_RUNS = 10;

// The first socket write after a call starts: when its request left (every arm pays this hook alike).
let wantWrite = false;
let writtenAt = 0n;
const write = net.Socket.prototype.write;
net.Socket.prototype.write = function timedWrite(this: net.Socket, ...args: unknown[]): boolean {
  if (wantWrite) {
    writtenAt = process.hrtime.bigint();
    wantWrite = false;
  }
  return (write as (...a: unknown[]) => boolean).apply(this, args);
} as typeof write;

const { module: modelwatch, label } = await loadModelwatch(values.source);
const sim = await startSimulatorProcess([], 'timing-simulator-process.ts');
const { arms, openaiVersion, shutdown } = createArms(modelwatch);
const clients = new Map(arms.map((arm) => [arm.name, arm.newClient(sim.baseURL)]));
const messages = [{ role: 'user' as const, content: 'hi' }];

async function oneCall(client: OpenAI, seq: string): Promise<number> {
  const headers = { 'x-bench-delay-us': DELAY_US, 'x-bench-seq': seq, 'x-stream': values.stream ? '1' : '0' };
  const before = performance.now();
  if (!values.stream) {
    const pending = client.chat.completions.create({ model: 'gpt-4o-mini', messages }, { headers });
    const createUs = (performance.now() - before) * 1000;
    await pending;
    return createUs;
  }
  const pending = client.chat.completions.create(
    { model: 'gpt-4o-mini', messages, stream: true, stream_options: { include_usage: true } },
    { headers },
  );
  const createUs = (performance.now() - before) * 1000;
  for await (const _chunk of await pending) {
    // drain, as a caller reading the completion would
  }
  return createUs;
}

interface Call {
  arm: ArmName;
  block: number;
  seq: string;
  calledAt: bigint;
  writtenAt: bigint;
  resumedAt: bigint;
  createUs: number;
}
const calls: Call[] = [];
let seq = 0;
const runs = WARMUP_RUNS + Math.ceil(CALLS / (RUN - 1));
for (let run = 0; run < runs; run++) {
  for (let k = 0; k < arms.length; k++) {
    const arm = arms[(run + k) % arms.length]!;
    const client = clients.get(arm.name)!;
    for (let i = 0; i < RUN; i++) {
      const id = String(seq++);
      wantWrite = true;
      const calledAt = process.hrtime.bigint();
      const createUs = await oneCall(client, id);
      const resumedAt = process.hrtime.bigint();
      if (run < WARMUP_RUNS || i === 0) continue;
      calls.push({
        arm: arm.name,
        block: Math.floor(run / BLOCK_RUNS),
        seq: id,
        calledAt,
        writtenAt,
        resumedAt,
        createUs,
      });
    }
  }
}
const times = new Map(
  (await (await fetch(sim.baseURL.replace(/\/v1$/, '/times'))).json()) as Array<[string, [string, string]]>,
);

const STAGES = ['create()', 'written', 'arrived', 'resumed'] as const;
type Stage = (typeof STAGES)[number];
const median = (v: readonly number[]): number =>
  [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] ?? NaN;
const us = (from: bigint, to: bigint): number => Number(to - from) / 1000;
const byArm = new Map<ArmName, Map<number, Record<Stage, number[]>>>();
for (const call of calls) {
  const [arrived, answered] = times.get(call.seq) ?? [];
  if (arrived === undefined || answered === undefined) continue;
  const blocks = byArm.get(call.arm) ?? new Map<number, Record<Stage, number[]>>();
  byArm.set(call.arm, blocks);
  const block = blocks.get(call.block) ?? { 'create()': [], written: [], arrived: [], resumed: [] };
  blocks.set(call.block, block);
  block['create()'].push(call.createUs);
  block.written.push(us(call.calledAt, call.writtenAt));
  block.arrived.push(us(call.calledAt, BigInt(arrived)));
  block.resumed.push(us(BigInt(answered), call.resumedAt));
}

console.log(
  `openai-call-split: openai ${openaiVersion}, modelwatch = ${label}, ${values.stream ? 'stream of 4 chunks' : 'JSON'}, provider ${Number(DELAY_US) / 1000} ms, ${CALLS} calls per arm`,
);
const baseline = byArm.get('baseline')!;
const pad = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : 'n/a').padStart(9);
console.log(
  `${'arm'.padEnd(11)}${STAGES.map((s) => s.padStart(9)).join(' ')}   added: ${STAGES.map((s) => s.padStart(9)).join(' ')}`,
);
for (const arm of arms) {
  const blocks = byArm.get(arm.name)!;
  const pooled = (stage: Stage): number => median([...blocks.values()].flatMap((b) => b[stage]));
  const added = (stage: Stage): number =>
    median([...blocks].map(([block, b]) => median(b[stage]) - median(baseline.get(block)?.[stage] ?? [])));
  const base = arm.name === 'baseline';
  console.log(
    `${arm.name.padEnd(11)}${STAGES.map((s) => pad(pooled(s))).join(' ')}   ${base ? '' : 'added: ' + STAGES.map((s) => pad(added(s))).join(' ')}`,
  );
}
await shutdown();
await sim.stop();
