/**
 * What both byte-level OTLP walkers (the gateway's splitWireRequest, the consumer's encodeWireRows) check
 * the way the reference path does, so that they send the same inputs to it: validateSpan's rules on a
 * span's ids and times, and the AnyValue nesting they take. Plain functions on offsets and 32-bit halves:
 * nothing is allocated per span.
 */

/** Nested arrays/maps deeper than this take the reference path (far below protobufjs' recursion limit). */
export const MAX_VALUE_DEPTH = 10;

/** validateSpan's id rule: exactly `bytes` long and not all zero. */
export function isValidId(buf: Buffer, start: number, end: number, bytes: number): boolean {
  if (end - start !== bytes) return false;
  for (let i = start; i < end; i++) if (buf[i] !== 0) return true;
  return false;
}

/** Span end minus start, from the two fixed64 times as unsigned 32-bit halves. */
export function wireDurationNs(startLo: number, startHi: number, endLo: number, endHi: number): number {
  return (endHi - startHi) * 4294967296 + (endLo - startLo);
}

/**
 * validateSpan's span-level checks (links are checked where they are read): trace id and span id, a parent
 * span id that is empty or 8 bytes, a start time, an end not before the start.
 */
export function isValidWireSpan(
  buf: Buffer,
  traceStart: number,
  traceEnd: number,
  spanStart: number,
  spanEnd: number,
  parentLength: number,
  startLo: number,
  startHi: number,
  durationNs: number,
): boolean {
  return (
    isValidId(buf, traceStart, traceEnd, 16) &&
    isValidId(buf, spanStart, spanEnd, 8) &&
    (parentLength === 0 || parentLength === 8) &&
    (startLo !== 0 || startHi !== 0) &&
    durationNs >= 0
  );
}
