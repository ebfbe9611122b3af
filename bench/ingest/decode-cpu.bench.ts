/**
 * CPU per span of the consumer's decode path and per request of the gateway's split path, stage by stage
 * (`node --conditions=source --import tsx bench/ingest/decode-cpu.bench.ts`, ~20 s). Process CPU time
 * (process.cpuUsage: user + system, GC included), not wall time, so other work on the machine matters less.
 * Each stage runs over the same 60 realistic requests (~18k spans) `ROUNDS` times after a warm-up round.
 */
import { encodeLlmCallRows, encodeTraceRows } from '../../ingest/src/clickhouse/insert-rows.js';
import { decodeRecord } from '../../ingest/src/consumer/decode-record.js';
import { encodeWireRows } from '../../ingest/src/consumer/encode-wire-rows.js';
import { spanToRows } from '../../ingest/src/consumer/span-to-row.js';
import { toRecords } from '../../ingest/src/gateway/otlp-http-server.js';
import { validateTraceRequest, toDecodedTraceRequest } from '../../ingest/src/otlp/decode.js';
import { encodeTraceRequest, parseTraceRequest } from '../../ingest/src/otlp/parse-request.js';
import { splitByTraceId } from '../../ingest/src/otlp/split-by-trace.js';
import { makeMessages } from './llm-span-messages.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8);

const messages = await makeMessages(60, ['checkout', 'search', 'support-bot', 'summarizer'], Date.now());
const bodies = messages.map((m) => Buffer.from(m.body));
const spansPerRound = messages.reduce((n, m) => n + m.spans, 0);
let sink = 0;

/** µs of process CPU per unit for `run` over every body, best of ROUNDS (least disturbed by other work). */
function measure(label: string, unit: 'span' | 'request', run: (body: Buffer) => unknown): void {
  for (const body of bodies) run(body);
  const perRound: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const before = process.cpuUsage();
    for (const body of bodies) sink += run(body) === undefined ? 0 : 1;
    const used = process.cpuUsage(before);
    perRound.push(used.user + used.system);
  }
  perRound.sort((a, b) => a - b);
  const units = unit === 'span' ? spansPerRound : bodies.length;
  const best = (perRound[0] ?? NaN) / units;
  const median = (perRound[Math.floor(perRound.length / 2)] ?? NaN) / units;
  console.log(`${label.padEnd(58)} ${best.toFixed(2).padStart(8)} µs/${unit} (median ${median.toFixed(2)})`);
}

console.log(
  `${bodies.length} protobuf requests, ${spansPerRound} spans per round, ${ROUNDS} rounds; CPU time (user+sys) per unit`,
);
console.log('consumer, reference path (protobufjs -> DecodedTraceRequest -> row objects -> Native blocks):');
measure('  parse (protobufjs decode)', 'span', (b) => parseTraceRequest(b, 'otlp_proto'));
measure('  parse + decoded objects', 'span', (b) =>
  toDecodedTraceRequest(parseTraceRequest(b, 'otlp_proto')),
);
measure('  parse + decoded + row objects', 'span', (b) =>
  spanToRows(toDecodedTraceRequest(parseTraceRequest(b, 'otlp_proto'))),
);
measure('  parse + decoded + rows + encoded rows', 'span', (b) => {
  const rows = spanToRows(toDecodedTraceRequest(parseTraceRequest(b, 'otlp_proto')));
  return encodeTraceRows(rows.traces).length + encodeLlmCallRows(rows.llmCalls).length;
});
console.log('consumer, wire path:');
measure('  encodeWireRows (bytes -> encoded rows of both tables)', 'span', (b) => encodeWireRows(b));
console.log('consumer, as it runs (decodeRecord):');
measure('  decodeRecord', 'span', (b) => decodeRecord(b, undefined));
console.log('gateway, per 100-500-span request:');
measure('  reference: parse + validate + split + re-encode', 'request', (b) => {
  const request = parseTraceRequest(b, 'otlp_proto');
  validateTraceRequest(request);
  return splitByTraceId(request).map((slice) => encodeTraceRequest(slice.request));
});
measure('  as it runs: toRecords (byte-level validate + split)', 'request', (b) =>
  toRecords(b, 'otlp_proto'),
);
if (sink < 0) console.log(sink);
