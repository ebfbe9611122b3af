/**
 * OTLP AnyValue -> AttrValue, and AttrValue -> the string the OpenTelemetry Collector's ClickHouse exporter
 * stores in Map(String, String) columns (pcommon Value.AsString): strings as is, numbers in Go's 'f'
 * formatting, bytes as base64, arrays and maps as JSON with sorted keys and Go's HTML escaping.
 */
import type { AttrMap, AttrValue, Attributes } from './otlp-types.js';
import type { RawAnyValue, RawKeyValue } from './proto-types.js';
import { int64ToValue } from './int64.js';

export function anyValueToAttr(value: RawAnyValue | null | undefined): AttrValue {
  if (!value) return null;
  switch (value.value) {
    case 'stringValue':
      return value.stringValue ?? '';
    case 'boolValue':
      return value.boolValue ?? false;
    case 'intValue':
      return int64ToValue(value.intValue);
    case 'doubleValue':
      return value.doubleValue ?? 0;
    case 'arrayValue':
      return (value.arrayValue?.values ?? []).map(anyValueToAttr);
    case 'kvlistValue':
      return keyValuesToAttributes(value.kvlistValue?.values) as AttrMap;
    case 'bytesValue':
      return value.bytesValue ?? new Uint8Array();
    default:
      return null;
  }
}

/** Flattens a KeyValue list; a repeated key keeps its last value (keys must be unique per OTLP). */
export function keyValuesToAttributes(list: readonly RawKeyValue[] | undefined): Attributes {
  const out: Attributes = {};
  if (!list) return out;
  for (const kv of list) out[kv.key ?? ''] = anyValueToAttr(kv.value);
  return out;
}

const GO_HTML_ESCAPES = /[<>&\u2028\u2029]/g;
const GO_ESCAPE_FOR: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** Go strconv.FormatFloat(v, 'f', -1, 64): shortest round-trip digits, never an exponent. */
function goFormatFloat(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  const text = String(value);
  if (!text.includes('e')) return text;
  if (Math.abs(value) >= 1e21) return BigInt(value).toString(); // such doubles are integers
  // Small magnitude: "d.ddde-N" -> "0.000ddd" with the same shortest digits.
  const [mantissa = '', exponent = '0'] = text.split('e');
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  const zeros = -Number(exponent) - 1;
  return `${negative ? '-' : ''}0.${'0'.repeat(zeros)}${digits}`;
}

/** encoding/json's output for the value pcommon's AsRaw gives (ints and floats as JSON numbers). */
function goJson(value: AttrValue): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'bigint':
      return value.toString();
    case 'boolean':
      return value ? 'true' : 'false';
  }
  if (value instanceof Uint8Array) return `"${toBase64(value)}"`;
  if (Array.isArray(value)) return `[${value.map(goJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${goJson((value as AttrMap)[key] ?? null)}`).join(',')}}`;
}

export function attrValueToString(value: AttrValue): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
      return Number.isInteger(value) && Math.abs(value) < 1e21 ? String(value) : goFormatFloat(value);
    case 'bigint':
      return value.toString();
    case 'boolean':
      return value ? 'true' : 'false';
  }
  if (value === null) return '';
  if (value instanceof Uint8Array) return toBase64(value);
  return goJson(value).replace(GO_HTML_ESCAPES, (c) => GO_ESCAPE_FOR[c] ?? c);
}

/** Attributes as a Map(String, String) column value. */
export function attributesToStrings(attributes: Attributes): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key in attributes) {
    const value = attributes[key] as AttrValue;
    out[key] = typeof value === 'string' ? value : attrValueToString(value);
  }
  return out;
}
