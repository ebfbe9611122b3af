/**
 * Bytes allocated per call, per arm (no instrumentation, modelwatch, contrib), with the allocation sites
 * each instrumentation adds. V8's sampling heap profiler, told to count objects the GC already collected
 * (`includeObjectsCollectedByMajorGC/MinorGC`), runs over the same calls for each arm in turn: 16 in
 * flight against the simulator process, as in openai-overhead.bench.ts. The figures are sampled (one
 * sample per `--interval` bytes on average), so sites below a few hundred bytes per call are noise.
 * A diagnostic, not a target: it is how the SDK's attribute storage was found to be half of what our span
 * allocates (docs/design-notes.md, session 8).
 *
 *   npm run bench:instrumentation:alloc [-- --calls 3000 --stream --top 25 --interval 256]
 */
import { Session } from 'node:inspector/promises';
import { parseArgs } from 'node:util';
import type OpenAI from 'openai-v6';
import { createArms, loadModelwatch, startSimulatorProcess, type ArmName } from './bench-arms.js';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '3000' },
    stream: { type: 'boolean', default: false },
    top: { type: 'string', default: '25' },
    interval: { type: 'string', default: '256' },
    source: { type: 'boolean', default: false },
  },
});
const CALLS = Number(values.calls);
const TOP = Number(values.top);
const CONCURRENCY = 16;

/** The part of a sampling heap profile read here (Chrome DevTools protocol `SamplingHeapProfileNode`). */
interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

const { module: modelwatch, label } = await loadModelwatch(values.source);
const sim = await startSimulatorProcess();
const { arms, openaiVersion, shutdown } = createArms(modelwatch);
const messages = [{ role: 'user' as const, content: 'hi' }];

async function oneCall(client: OpenAI): Promise<void> {
  if (!values.stream) {
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages });
    return;
  }
  const stream = await client.chat.completions.create(
    { model: 'gpt-4o-mini', messages, stream: true, stream_options: { include_usage: true } },
    { headers: { 'x-bench-chunks': '4' } },
  );
  for await (const _chunk of stream) {
    // drain
  }
}

async function callsInFlight(client: OpenAI, count: number): Promise<void> {
  let started = 0;
  const worker = async (): Promise<void> => {
    while (started < count) {
      started++;
      await oneCall(client);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  // The span work instrumentations defer past the last call (two check phases for modelwatch).
  for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setImmediate(resolve));
}

function siteOf(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url.includes('/node_modules/') ? url.split('/node_modules/').pop()! : url;
  return `${functionName || '(anonymous)'} ${file}:${lineNumber}`;
}

/** Bytes per call by allocation site. */
function bytesBySite(head: ProfileNode): Map<string, number> {
  const sites = new Map<string, number>();
  const pending = [head];
  while (pending.length > 0) {
    const node = pending.pop()!;
    if (node.selfSize > 0) {
      const site = siteOf(node);
      sites.set(site, (sites.get(site) ?? 0) + node.selfSize / CALLS);
    }
    pending.push(...node.children);
  }
  return sites;
}

const session = new Session();
session.connect();
const byArm = new Map<ArmName, Map<string, number>>();
console.log(
  `openai-allocation: openai ${openaiVersion}, modelwatch = ${label}, ${values.stream ? 'stream of 4 chunks' : 'JSON'}, ` +
    `${CALLS} calls per arm, ${CONCURRENCY} in flight, one sample per ${values.interval} bytes`,
);
for (const arm of arms) {
  const client = arm.newClient(sim.baseURL);
  await callsInFlight(client, Math.min(3000, CALLS)); // warm-up: optimised code allocates differently
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: Number(values.interval),
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  await callsInFlight(client, CALLS);
  const { profile } = await session.post('HeapProfiler.stopSampling');
  byArm.set(arm.name, bytesBySite(profile.head as ProfileNode));
}
session.disconnect();

const total = (sites: Map<string, number>): number => [...sites.values()].reduce((a, b) => a + b, 0);
const baseline = byArm.get('baseline')!;
console.log('');
for (const [name, sites] of byArm) {
  const added =
    name === 'baseline' ? '' : `  (+${(total(sites) - total(baseline)).toFixed(0)} over baseline)`;
  console.log(`${name.padEnd(10)} ${total(sites).toFixed(0).padStart(8)} bytes per call${added}`);
}
for (const name of ['modelwatch', 'contrib'] as const) {
  const sites = byArm.get(name)!;
  const added = new Map<string, number>();
  for (const [site, bytes] of sites) added.set(site, bytes - (baseline.get(site) ?? 0));
  for (const [site, bytes] of baseline) if (!sites.has(site)) added.set(site, -bytes);
  console.log(`\n${name}: the ${TOP} sites that add the most bytes per call (sampled; small ones are noise)`);
  const top = [...added].sort((a, b) => b[1] - a[1]).slice(0, TOP);
  for (const [site, bytes] of top) console.log(`${bytes.toFixed(0).padStart(8)}  ${site}`);
}

await shutdown();
await sim.stop();
