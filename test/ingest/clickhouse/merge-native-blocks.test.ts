// Merging per-record Native blocks gives exactly the block of all their rows encoded at once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mergeNativeBlocks } from '../../../ingest/src/clickhouse/merge-native-blocks.js';
import { readStringColumns } from '../../../ingest/src/clickhouse/native-block-columns.js';
import { blockMapOf } from '../../../ingest/src/clickhouse/native-block.js';
import type { LlmCallRow, OtelTraceRow } from '../../../ingest/src/clickhouse/rows.js';
import { LLM_CALLS_COLUMNS, OTEL_TRACES_COLUMNS } from '../../../ingest/src/clickhouse/insert-rows.js';
import {
  encodeLlmCallRows,
  encodeTraceRows,
  LlmCallColumns,
  TraceColumns,
} from '../../../ingest/src/clickhouse/span-blocks.js';
import { llmCallRow } from '../report/fixtures/seed-llm-calls.js';

function traceRow(i: number, events: number, links: number): OtelTraceRow {
  return {
    Timestamp: String(1_790_000_000_000_000_000n + BigInt(i)),
    TraceId: 'ab'.repeat(16),
    SpanId: `${i}`.padStart(16, '0'),
    ParentSpanId: '',
    TraceState: '',
    SpanName: `chat model-${i}`,
    SpanKind: 'Client',
    ServiceName: 'svc',
    ResourceAttributes: { 'service.name': 'svc', 'host.name': `h${i}` },
    ScopeName: 'scope',
    ScopeVersion: '1',
    SpanAttributes: Object.fromEntries(Array.from({ length: i % 4 }, (_, k) => [`k${k}`, `v${i}-${k}`])),
    Duration: String(1000 + i),
    StatusCode: i % 2 ? 'Error' : 'Unset',
    StatusMessage: i % 2 ? 'overloaded' : '',
    'Events.Timestamp': Array.from({ length: events }, (_, e) =>
      String(1_790_000_000_000_000_000n + BigInt(e)),
    ),
    'Events.Name': Array.from({ length: events }, (_, e) => `event-${e}`),
    'Events.Attributes': Array.from({ length: events }, (_, e) =>
      Object.fromEntries(Array.from({ length: e }, (_, k) => [`a${k}`, `${i}:${e}:${k}`])),
    ),
    'Links.TraceId': Array.from({ length: links }, () => 'cd'.repeat(16)),
    'Links.SpanId': Array.from({ length: links }, (_, l) => `${l}`.padStart(16, '1')),
    'Links.TraceState': Array.from({ length: links }, () => ''),
    'Links.Attributes': Array.from({ length: links }, (_, l): Record<string, string> =>
      l ? { kind: 'retry' } : {},
    ),
  };
}

describe('span blocks', () => {
  it('hold the columns the inserts name, in the same order', () => {
    assert.deepEqual(new TraceColumns().block.columnNames, OTEL_TRACES_COLUMNS);
    assert.deepEqual(new LlmCallColumns().block.columnNames, LLM_CALLS_COLUMNS);
  });
});

describe('mergeNativeBlocks', () => {
  it('otel_traces: the merge of per-record blocks is the block of all rows (maps, arrays, arrays of maps)', () => {
    const rows = Array.from({ length: 9 }, (_, i) => traceRow(i, i % 3, i % 2));
    const records = [rows.slice(0, 1), rows.slice(1, 5), [], rows.slice(5)];
    const merged = mergeNativeBlocks(records.map(encodeTraceRows));
    assert.deepEqual(Buffer.from(merged), encodeTraceRows(rows));
  });

  it('llm_calls: the same, with finish-reason arrays of every length', () => {
    const rows: LlmCallRow[] = Array.from({ length: 7 }, (_, i) =>
      llmCallRow(1_790_000_000_000 + i, { FinishReasons: Array.from({ length: i % 3 }, (_, k) => `r${k}`) }),
    );
    const merged = mergeNativeBlocks(
      [rows.slice(0, 3), rows.slice(3, 4), rows.slice(4)].map(encodeLlmCallRows),
    );
    assert.deepEqual(Buffer.from(merged), encodeLlmCallRows(rows));
  });

  it('blocks the encoders made are merged from their maps, copies by reading them: the same bytes', () => {
    const blocks = [0, 1, 2].map((i) => encodeTraceRows([traceRow(i, i, 2 - i), traceRow(i + 3, 1, 0)]));
    assert.ok(blocks.every((block) => blockMapOf(block) !== undefined));
    const copies = blocks.map((block) => Buffer.from(block));
    assert.ok(copies.every((copy) => blockMapOf(copy) === undefined));
    assert.deepEqual(Buffer.from(mergeNativeBlocks(copies)), Buffer.from(mergeNativeBlocks(blocks)));
    // Mixed: one copy among mapped blocks reads them all.
    assert.deepEqual(
      Buffer.from(mergeNativeBlocks([blocks[0]!, copies[1]!, blocks[2]!])),
      Buffer.from(mergeNativeBlocks(blocks)),
    );
  });

  it('a single block comes back as it is; no rows give no bytes', () => {
    const block = encodeTraceRows([traceRow(1, 1, 1)]);
    assert.equal(mergeNativeBlocks([encodeTraceRows([]), block]), block);
    assert.equal(mergeNativeBlocks([encodeTraceRows([])]).length, 0);
    assert.equal(mergeNativeBlocks([]).length, 0);
  });

  it('refuses blocks of different tables and blocks cut short', () => {
    const trace = encodeTraceRows([traceRow(1, 1, 1)]);
    const llm = encodeLlmCallRows([llmCallRow(1_790_000_000_000)]);
    assert.throws(() => mergeNativeBlocks([trace, llm]), /different columns/);
    assert.throws(() => mergeNativeBlocks([trace, trace.subarray(0, trace.length - 3)]), RangeError);
  });
});

describe('readStringColumns', () => {
  it('reads the span keys back out of both tables’ blocks, past maps, arrays and arrays of maps', () => {
    const rows = Array.from({ length: 6 }, (_, i) => traceRow(i, i % 3, i % 2));
    assert.deepEqual(
      readStringColumns(encodeTraceRows(rows), ['TraceId', 'SpanId']),
      rows.map((row) => [row.TraceId, row.SpanId]),
    );
    const calls: LlmCallRow[] = Array.from({ length: 4 }, (_, i) =>
      llmCallRow(1_790_000_000_000 + i, { SpanId: `s${i}`, FinishReasons: ['stop'] }),
    );
    assert.deepEqual(
      readStringColumns(encodeLlmCallRows(calls), ['SpanId', 'TraceId']),
      calls.map((row) => [row.SpanId, row.TraceId]),
    );
    assert.deepEqual(readStringColumns(new Uint8Array(0), ['TraceId']), []);
  });

  it('refuses a column that is missing or not a String, and a block cut short', () => {
    const block = encodeTraceRows([traceRow(1, 1, 1)]);
    assert.throws(() => readStringColumns(block, ['NoSuchColumn']), /no column NoSuchColumn/);
    assert.throws(() => readStringColumns(block, ['Duration']), /Duration is UInt64, not String/);
    assert.throws(() => readStringColumns(block.subarray(0, block.length - 3), ['TraceId']), RangeError);
  });
});
