// The Native block layout byte for byte (the engine round trips are in span-blocks.integration.test.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NativeBlock, OffsetsWriter } from '../../../ingest/src/clickhouse/native-block.js';
import { RowBinaryWriter } from '../../../ingest/src/clickhouse/row-binary.js';

function twoColumns() {
  const name = new RowBinaryWriter(8);
  const tagOffsets = new OffsetsWriter(8);
  const tags = new RowBinaryWriter(8);
  const block = new NativeBlock([
    { name: 'n', type: 'String', streams: [name] },
    { name: 't', type: 'Array(String)', streams: [tagOffsets, tags] },
  ]);
  const row = (value: string, values: string[]) => {
    name.string(value);
    tagOffsets.add(values.length);
    for (const v of values) tags.string(v);
    block.rowWritten();
  };
  return { block, row };
}

const u64 = (n: number) => [n, 0, 0, 0, 0, 0, 0, 0];
const str = (s: string) => [s.length, ...Buffer.from(s)];

describe('NativeBlock', () => {
  it('writes counts, then each column: name, type, offsets from the block start, values', () => {
    const { block, row } = twoColumns();
    row('a', ['x', 'yz']);
    row('bc', []);
    row('', ['w']);
    const expected = [
      2, // columns
      3, // rows
      ...str('n'),
      ...str('String'),
      ...str('a'),
      ...str('bc'),
      ...str(''),
      ...str('t'),
      ...str('Array(String)'),
      ...u64(2),
      ...u64(2),
      ...u64(3),
      ...str('x'),
      ...str('yz'),
      ...str('w'),
    ];
    assert.deepEqual([...block.take()], expected);
  });

  it('starts over after a take: offsets count from zero again, and no rows take nothing', () => {
    const { block, row } = twoColumns();
    row('a', ['x']);
    block.take();
    row('b', ['y']);
    assert.deepEqual(
      [...block.take()],
      [
        2,
        1,
        ...str('n'),
        ...str('String'),
        ...str('b'),
        ...str('t'),
        ...str('Array(String)'),
        ...u64(1),
        ...str('y'),
      ],
    );
    assert.equal(block.take().length, 0);
  });

  it('reset drops a half-written row', () => {
    const { block, row } = twoColumns();
    row('a', ['x']);
    block.reset();
    row('b', []);
    const bytes = block.take();
    assert.equal(bytes[1], 1);
    assert.ok(!bytes.includes('x'.charCodeAt(0)));
  });
});
