/**
 * ClickHouse's binary value encoding (the one RowBinary and Native share), written into one growing buffer:
 * numbers little endian, strings as a LEB128 length and their UTF-8 bytes. Each Native column stream
 * (native-block.ts, span-blocks.ts) is one of these writers; the consumer's protobuf walk copies attribute
 * strings from the request's bytes into them as they are (utf8Bytes), without decoding or escaping them.
 */

/** Lowercase hex digits of every byte value, two ASCII bytes each. */
const HEX_DIGITS = Buffer.from(
  Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0')).join(''),
  'latin1',
);
const TWO_POW_32 = 4294967296;
/** Byte runs shorter than this are copied in JS: cheaper than the native call for the short strings rows hold. */
const NATIVE_COPY_MIN_BYTES = 32;
/** Strings shorter than this are tried as ASCII in JS first (see string()); must stay below 0x80. */
const SHORT_STRING_CHARS = 64;

export class RowBinaryWriter {
  #buf: Buffer;
  #pos = 0;

  constructor(initialBytes = 64 * 1024) {
    this.#buf = Buffer.allocUnsafe(initialBytes);
  }

  get length(): number {
    return this.#pos;
  }

  /** Starts over, keeping the buffer for the next rows. */
  reset(): void {
    this.#pos = 0;
  }

  /** What was written, without copying: valid until the next write or reset. */
  view(): Buffer {
    return this.#buf.subarray(0, this.#pos);
  }

  /** A copy of what was written (the writer's buffer is reused). */
  toBuffer(): Buffer {
    return Buffer.from(this.#buf.subarray(0, this.#pos));
  }

  #ensure(bytes: number): void {
    const needed = this.#pos + bytes;
    if (needed <= this.#buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(needed, this.#buf.length * 2));
    this.#buf.copy(grown, 0, 0, this.#pos);
    this.#buf = grown;
  }

  uint8(value: number): void {
    this.#ensure(1);
    this.#buf[this.#pos++] = value;
  }

  uint16(value: number): void {
    this.#ensure(2);
    this.#pos = this.#buf.writeUInt16LE(value, this.#pos);
  }

  uint32(value: number): void {
    this.#ensure(4);
    this.#pos = this.#buf.writeUInt32LE(value, this.#pos);
  }

  float64(value: number): void {
    this.#ensure(8);
    this.#pos = this.#buf.writeDoubleLE(value, this.#pos);
  }

  /** A 64-bit integer (Int64 or UInt64: the same bytes) from its unsigned 32-bit halves. */
  int64Halves(low: number, high: number): void {
    this.#ensure(8);
    const buf = this.#buf;
    buf.writeUInt32LE(low >>> 0, this.#pos);
    this.#pos = buf.writeUInt32LE(high >>> 0, this.#pos + 4);
  }

  /** UInt64 from a non-negative safe integer. */
  uint64(value: number): void {
    const high = Math.floor(value / TWO_POW_32);
    this.int64Halves(value - high * TWO_POW_32, high);
  }

  /** Int64 from its decimal text (DateTime64(9) nanoseconds do not fit a JS number); RangeError past Int64. */
  int64Decimal(text: string): void {
    this.#ensure(8);
    this.#pos = this.#buf.writeBigInt64LE(BigInt(text), this.#pos);
  }

  /** UInt64 from its decimal text; RangeError past UInt64. */
  uint64Decimal(text: string): void {
    this.#ensure(8);
    this.#pos = this.#buf.writeBigUInt64LE(BigInt(text), this.#pos);
  }

  /** A LEB128 count or length (array and map sizes). */
  varUInt(value: number): void {
    this.#ensure(5);
    this.#varint(value);
  }

  #varint(value: number): void {
    let v = value;
    while (v >= 0x80) {
      this.#buf[this.#pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.#buf[this.#pos++] = v;
  }

  string(value: string): void {
    // At most 3 UTF-8 bytes per UTF-16 unit. Short strings (nearly all) get a one-byte length slot up front
    // and are encoded once; longer ones are measured first. Short ASCII (ids, model names, enum values) is
    // copied code unit by code unit: a row holds ~20 such strings, and Buffer#write's native call cost more
    // than the copy (measured: the consumer's JS time per span −1 µs).
    const length = value.length;
    const maxBytes = length * 3;
    this.#ensure(maxBytes + 5);
    if (length < SHORT_STRING_CHARS) {
      const buf = this.#buf;
      const start = this.#pos + 1;
      let i = 0;
      for (; i < length; i++) {
        const code = value.charCodeAt(i);
        if (code >= 0x80) break;
        buf[start + i] = code;
      }
      if (i === length) {
        buf[this.#pos] = length;
        this.#pos = start + length;
        return;
      }
    }
    if (maxBytes < 0x80) {
      const written = this.#buf.write(value, this.#pos + 1, 'utf8');
      this.#buf[this.#pos] = written;
      this.#pos += 1 + written;
    } else {
      this.#varint(Buffer.byteLength(value, 'utf8'));
      this.#pos += this.#buf.write(value, this.#pos, 'utf8');
    }
  }

  /** A String from bytes that already are valid UTF-8 (the caller checked): copied as they are. */
  utf8Bytes(source: Uint8Array, start: number, end: number): void {
    const length = end - start;
    this.#ensure(length + 5);
    this.#varint(length);
    this.#copy(source, start, end);
  }

  /** A String of the lowercase hex digits of bytes [start, end) (trace and span ids). */
  hexString(source: Uint8Array, start: number, end: number): void {
    const length = (end - start) * 2;
    this.#ensure(length + 5);
    this.#varint(length);
    const buf = this.#buf;
    let pos = this.#pos;
    for (let i = start; i < end; i++) {
      const at = (source[i] as number) << 1;
      buf[pos++] = HEX_DIGITS[at] as number;
      buf[pos++] = HEX_DIGITS[at + 1] as number;
    }
    this.#pos = pos;
  }

  /** Appends bytes written elsewhere (a value encoded once and repeated on many rows, a scratch writer's rows). */
  bytes(source: Uint8Array): void {
    this.#ensure(source.length);
    this.#copy(source, 0, source.length);
  }

  #copy(source: Uint8Array, start: number, end: number): void {
    const buf = this.#buf;
    let pos = this.#pos;
    if (end - start < NATIVE_COPY_MIN_BYTES) {
      for (let i = start; i < end; i++) buf[pos++] = source[i] as number;
      this.#pos = pos;
    } else {
      buf.set(source.subarray(start, end), pos);
      this.#pos = pos + end - start;
    }
  }
}
