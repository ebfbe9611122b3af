/**
 * A minimal protobuf wire reader for the hot paths that walk OTLP requests without building protobufjs
 * messages (the consumer's row encoder, the gateway's splitter). It reads only the canonical form real
 * exporters write and gives up — throws NOT_CANONICAL — on anything else: a known field with an unexpected
 * wire type, a singular message field seen twice (protobufjs would merge them), over-long varints, groups,
 * lengths past their enclosing message, strings that are not valid UTF-8 or contain U+FFFD. The caller
 * then takes the protobufjs path, which decides (and words any error) exactly as before. Everything this
 * reader accepts, protobufjs accepts with the same values.
 */

/** Thrown (one preallocated instance, no stack capture per use) when the input needs the protobufjs path. */
export class NotCanonicalError extends Error {}
export const NOT_CANONICAL = new NotCanonicalError('not in the canonical protobuf form; use protobufjs');

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_FIXED32 = 5;

/** Node's Buffer slice methods behind toString (present since Node 0.x, used by protobufjs too; untyped). */
interface NodeBufferSlices extends Buffer {
  utf8Slice(start: number, end: number): string;
  hexSlice(start: number, end: number): string;
}

export class WireReader {
  readonly buf: Buffer;
  pos = 0;
  /** End of the message being read (exclusive); reads never cross it. */
  limit: number;
  /** The last varint64 / fixed64 read, as unsigned 32-bit halves. */
  lo = 0;
  hi = 0;

  constructor(body: Uint8Array) {
    this.buf = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    this.limit = this.buf.length;
  }

  /** A varint of at most 5 bytes that fits 32 bits (tags, lengths, uint32/int32/enum fields). */
  uint32(): number {
    const buf = this.buf;
    let pos = this.pos;
    const limit = this.limit;
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (pos >= limit) throw NOT_CANONICAL;
      const byte = buf[pos++] as number;
      if (shift === 28 && byte > 0x0f) throw NOT_CANONICAL;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) {
        this.pos = pos;
        return value;
      }
    }
    throw NOT_CANONICAL;
  }

  /** A field tag; field number 0 is malformed. */
  tag(): number {
    const tag = this.uint32();
    if (tag >>> 3 === 0) throw NOT_CANONICAL;
    return tag;
  }

  /** A varint of up to 10 bytes into lo/hi. */
  varint64(): void {
    const buf = this.buf;
    let pos = this.pos;
    const limit = this.limit;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (pos >= limit) throw NOT_CANONICAL;
      const byte = buf[pos++] as number;
      const bits = byte & 0x7f;
      if (i < 4) lo |= bits << (7 * i);
      else if (i === 4) {
        lo |= bits << 28;
        hi |= bits >>> 4;
      } else hi |= bits << (7 * i - 32);
      if (byte < 0x80) {
        this.pos = pos;
        this.lo = lo >>> 0;
        this.hi = hi >>> 0;
        return;
      }
    }
    throw NOT_CANONICAL;
  }

  fixed64(): void {
    const pos = this.pos;
    if (pos + 8 > this.limit) throw NOT_CANONICAL;
    this.lo = this.buf.readUInt32LE(pos);
    this.hi = this.buf.readUInt32LE(pos + 4);
    this.pos = pos + 8;
  }

  fixed32(): number {
    const pos = this.pos;
    if (pos + 4 > this.limit) throw NOT_CANONICAL;
    this.pos = pos + 4;
    return this.buf.readUInt32LE(pos);
  }

  double(): number {
    const pos = this.pos;
    if (pos + 8 > this.limit) throw NOT_CANONICAL;
    this.pos = pos + 8;
    return this.buf.readDoubleLE(pos);
  }

  /** Reads a length prefix; returns the end offset of the bytes that follow (pos is at their start). */
  lengthEnd(): number {
    const length = this.uint32();
    const end = this.pos + length;
    if (end > this.limit) throw NOT_CANONICAL;
    return end;
  }

  /** A length-delimited UTF-8 string, rejected (NOT_CANONICAL) when protobufjs' strict decoding could differ. */
  string(): string {
    const end = this.lengthEnd();
    const start = this.pos;
    this.pos = end;
    return this.utf8(start, end);
  }

  /** Bytes [start, end) as a string, like string() (Node's utf8Slice: Buffer#toString minus its argument checks). */
  utf8(start: number, end: number): string {
    if (start === end) return '';
    const text = (this.buf as NodeBufferSlices).utf8Slice(start, end);
    // Invalid UTF-8 decodes to U+FFFD here but throws in protobufjs; a genuine U+FFFD just takes the slow path.
    if (text.indexOf('\uFFFD') !== -1) throw NOT_CANONICAL;
    return text;
  }

  hex(start: number, end: number): string {
    return (this.buf as NodeBufferSlices).hexSlice(start, end);
  }

  /**
   * Skips length-delimited bytes without a view or copy; returns where they start (they end at `pos`). The
   * other length-delimited reads keep their own copy of these lines: calling this from them cost the
   * gateway's split ~6% (measured), likely by inlining budget.
   */
  skipBytes(): number {
    const end = this.lengthEnd();
    const start = this.pos;
    this.pos = end;
    return start;
  }

  /** Length-delimited bytes, as a view into the body (protobufjs' BufferReader also hands out a view). */
  bytes(): Buffer {
    const end = this.lengthEnd();
    const start = this.pos;
    this.pos = end;
    return this.buf.subarray(start, end);
  }

  /** Skips a field; throws NOT_CANONICAL for a field number set in `knownFields` (bit n = field n). */
  unknown(tag: number, knownFields: number): void {
    const field = tag >>> 3;
    if (field < 31 && ((knownFields >>> field) & 1) === 1) throw NOT_CANONICAL;
    this.skip(tag & 7);
  }

  /** Skips a length-delimited string, checking it like string() does. */
  skipString(): void {
    const end = this.lengthEnd();
    const start = this.pos;
    this.pos = end;
    for (let i = start; i < end; i++) {
      if ((this.buf[i] as number) >= 0x80) {
        if (this.buf.toString('utf8', start, end).indexOf('\uFFFD') !== -1) throw NOT_CANONICAL;
        return;
      }
    }
  }

  /** Skips a field this reader does not use (protobufjs skips unknown fields the same way). */
  skip(wireType: number): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.varint64();
        return;
      case WIRE_FIXED64:
        if (this.pos + 8 > this.limit) throw NOT_CANONICAL;
        this.pos += 8;
        return;
      case WIRE_LEN:
        this.pos = this.lengthEnd();
        return;
      case WIRE_FIXED32:
        if (this.pos + 4 > this.limit) throw NOT_CANONICAL;
        this.pos += 4;
        return;
      default:
        throw NOT_CANONICAL; // groups and invalid wire types
    }
  }

  /** Enters a length-delimited sub-message; returns the enclosing limit for leave(). */
  enter(): number {
    const end = this.lengthEnd();
    const outer = this.limit;
    this.limit = end;
    return outer;
  }

  leave(outer: number): void {
    if (this.pos !== this.limit) throw NOT_CANONICAL;
    this.limit = outer;
  }
}
