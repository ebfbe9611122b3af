/**
 * Merges Native blocks of the same columns (one per Kafka record, as the encoders make them) into one block
 * per insert. The engine pays per block (type conversion, squashing and the materialized views run block by
 * block): measured, 12k spans as 400 blocks of one trace each (what the gateway's per-trace records give)
 * cost 40-48 µs per span to insert, as 40 blocks 11-23. One block per insert makes the insert's cost
 * independent of how the spans were cut into records.
 *
 * A column's data is its streams one after another (an Array's element counts, then its elements; a Map's
 * counts, keys, values), each stream holding every row of the block. So the merged column is, stream by
 * stream, that stream of every block in turn, with the cumulative counts of later blocks moved up by the
 * earlier blocks' totals. The blocks are read, not trusted: only the types our encoders write are known
 * (span-blocks.ts), and blocks that disagree on columns are refused.
 */
import { blockMapOf, type StreamRange } from './native-block.js';
import { RowBinaryWriter } from './row-binary.js';

const FIXED_SIZES: Readonly<Record<string, number>> = {
  UInt8: 1,
  UInt16: 2,
  UInt32: 4,
  Float64: 8,
  UInt64: 8,
  Int64: 8,
  'DateTime64(9)': 8,
};

export class BlockReader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}

  varUInt(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.buf.length) throw new RangeError('Native block ends inside a number');
      const byte = this.buf[this.pos++] as number;
      result += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return result;
      shift += 7;
    }
  }

  string(): string {
    const length = this.varUInt();
    const end = this.#skip(length);
    return Buffer.from(this.buf.buffer, this.buf.byteOffset + end - length, length).toString('utf8');
  }

  skipString(): void {
    this.#skip(this.varUInt());
  }

  #skip(bytes: number): number {
    this.pos += bytes;
    if (this.pos > this.buf.length) throw new RangeError('Native block ends inside a column');
    return this.pos;
  }

  /** The streams of `rows` values of `type`, appended to `out` in the format's order. */
  streams(type: string, rows: number, out: StreamRange[]): void {
    const fixed = FIXED_SIZES[type];
    if (fixed !== undefined) {
      out.push({ start: this.pos, end: this.#skip(rows * fixed), counts: false });
    } else if (type === 'String') {
      const start = this.pos;
      for (let i = 0; i < rows; i++) this.#skip(this.varUInt());
      out.push({ start, end: this.pos, counts: false });
    } else if (type.startsWith('Array(') && type.endsWith(')')) {
      const elements = this.#counts(rows, out);
      this.streams(type.slice('Array('.length, -1), elements, out);
    } else if (type === 'Map(String, String)') {
      const entries = this.#counts(rows, out);
      this.streams('String', entries, out);
      this.streams('String', entries, out);
    } else {
      throw new TypeError(`cannot merge Native columns of type ${type}`);
    }
  }

  /** A stream of `rows` cumulative UInt64 counts; returns the last (the element total). */
  #counts(rows: number, out: StreamRange[]): number {
    const start = this.pos;
    const end = this.#skip(rows * 8);
    out.push({ start, end, counts: true });
    return rows === 0 ? 0 : readUInt64(this.buf, end - 8);
  }
}

function readUInt64(buf: Uint8Array, at: number): number {
  const low =
    ((buf[at] as number) | ((buf[at + 1] as number) << 8) | ((buf[at + 2] as number) << 16)) +
    (buf[at + 3] as number) * 2 ** 24;
  const high =
    ((buf[at + 4] as number) | ((buf[at + 5] as number) << 8) | ((buf[at + 6] as number) << 16)) +
    (buf[at + 7] as number) * 2 ** 24;
  return low + high * 2 ** 32;
}

function sameBytes(a: Uint8Array, aStart: number, b: Uint8Array, bStart: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (a[aStart + i] !== b[bStart + i]) return false;
  return true;
}

/** A buffer reused insert after insert, grown when a body needs more. */
export class ScratchBuffer {
  #buf = Buffer.alloc(0);

  /** `size` bytes of it, valid until the next take. */
  take(size: number): Buffer {
    // Grown to the size asked, rounded up to 1 MiB: batches reach their largest size soon after start, and
    // every byte of slack stays resident for the consumer's lifetime.
    if (this.#buf.length < size) this.#buf = Buffer.allocUnsafe(Math.ceil(size / 2 ** 20) * 2 ** 20);
    return this.#buf.subarray(0, size);
  }
}

interface ParsedBlock {
  buf: Uint8Array;
  rows: number;
  /** Per column, its streams. */
  columns: readonly (readonly StreamRange[])[];
}

/** A column's name and type, and where their encoded bytes lie in the first block (to compare the others). */
interface ColumnHeader {
  name: string;
  type: string;
  start: number;
  end: number;
}

/**
 * The blocks as take() mapped them, when every one was made by it with the same columns (the consumer's
 * case: no parsing at all); undefined otherwise.
 */
function mappedBlocks(
  blocks: readonly Uint8Array[],
): { parsed: ParsedBlock[]; headers: Uint8Array[] } | undefined {
  const first = blockMapOf(blocks[0] as Uint8Array);
  if (first === undefined) return undefined;
  const parsed: ParsedBlock[] = [];
  for (const buf of blocks) {
    const map = blockMapOf(buf);
    if (map === undefined || map.layout !== first.layout) return undefined;
    parsed.push({ buf, rows: map.rows, columns: map.columns });
  }
  const firstBuf = blocks[0] as Uint8Array;
  return { parsed, headers: first.headers.map(([start, end]) => firstBuf.subarray(start, end)) };
}

/**
 * One block holding every row of `blocks` (empty ones skipped); a single block comes back as it is. Written
 * into `scratch` when given (the result is then a view of it, valid until its next take).
 */
export function mergeNativeBlocks(blocks: readonly Uint8Array[], scratch?: ScratchBuffer): Uint8Array {
  const nonEmpty = blocks.filter((block) => block.length > 0);
  if (nonEmpty.length <= 1) return nonEmpty[0] ?? new Uint8Array(0);
  const { parsed, headers } = mappedBlocks(nonEmpty) ?? parseBlocks(nonEmpty);
  return writeMerged(parsed, headers, scratch);
}

/** Reads every block's layout (blocks from elsewhere than take(): copies, the dead-letter topic, tests). */
function parseBlocks(nonEmpty: readonly Uint8Array[]): { parsed: ParsedBlock[]; headers: Uint8Array[] } {
  const first = nonEmpty[0] as Uint8Array;
  const columns: ColumnHeader[] = [];
  const parsed: ParsedBlock[] = nonEmpty.map((buf, index) => {
    const r = new BlockReader(buf);
    const columnCount = r.varUInt();
    const rows = r.varUInt();
    if (index > 0 && columnCount !== columns.length)
      throw new TypeError('cannot merge Native blocks with different columns');
    const streamsByColumn: StreamRange[][] = [];
    for (let c = 0; c < columnCount; c++) {
      const start = r.pos;
      let column: ColumnHeader;
      if (index === 0) {
        column = { name: r.string(), type: r.string(), start, end: 0 };
        column.end = r.pos;
        columns.push(column);
      } else {
        // Names and types are compared as bytes: decoding them for every record's block cost as much as
        // the rest of the merge.
        column = columns[c] as ColumnHeader;
        r.skipString();
        r.skipString();
        if (
          r.pos - start !== column.end - column.start ||
          !sameBytes(buf, start, first, column.start, column.end - column.start)
        )
          throw new TypeError('cannot merge Native blocks with different columns');
      }
      const streams: StreamRange[] = [];
      r.streams(column.type, rows, streams);
      streamsByColumn.push(streams);
    }
    if (r.pos !== buf.length) throw new RangeError('Native block has bytes after its last column');
    return { buf, rows, columns: streamsByColumn };
  });
  return { parsed, headers: columns.map(({ start, end }) => first.subarray(start, end)) };
}

function writeMerged(
  parsed: readonly ParsedBlock[],
  headers: readonly Uint8Array[],
  scratch?: ScratchBuffer,
): Uint8Array {
  const head = new RowBinaryWriter(256);
  head.varUInt(headers.length);
  head.varUInt(parsed.reduce((n, b) => n + b.rows, 0));
  let size = head.length;
  for (const header of headers) size += header.length;
  for (const block of parsed)
    for (const streams of block.columns) for (const s of streams) size += s.end - s.start;

  const out = scratch !== undefined ? scratch.take(size) : Buffer.allocUnsafe(size);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  let at = head.view().copy(out, 0);
  headers.forEach((header, c) => {
    out.set(header, at);
    at += header.length;
    const streamCount = (parsed[0] as ParsedBlock).columns[c]?.length ?? 0;
    for (let s = 0; s < streamCount; s++) {
      let base = 0;
      for (const block of parsed) {
        const range = (block.columns[c] as StreamRange[])[s] as StreamRange;
        const length = range.end - range.start;
        out.set(block.buf.subarray(range.start, range.end), at);
        if (range.counts && length > 0) {
          if (base > 0) {
            for (let p = at; p < at + length; p += 8) {
              const value = view.getUint32(p, true) + view.getUint32(p + 4, true) * 2 ** 32 + base;
              view.setUint32(p, value % 2 ** 32, true);
              view.setUint32(p + 4, Math.floor(value / 2 ** 32), true);
            }
          }
          base += readUInt64(block.buf, range.end - 8);
        }
        at += length;
      }
    }
  });
  return out;
}
