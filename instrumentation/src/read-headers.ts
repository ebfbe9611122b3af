/**
 * Reads single response headers from whatever an SDK hands us (a fetch `Headers`, a plain record with any
 * key case, AWS's `$response.headers`). Whole header sets are never recorded: they can carry credentials.
 */
export type HeaderSource = Headers | Readonly<Record<string, string | string[] | undefined>>;

function isHeadersLike(value: unknown): value is { get(name: string): string | null } {
  return (
    typeof value === 'object' && value !== null && typeof (value as { get?: unknown }).get === 'function'
  );
}

export function isHeaderSource(value: unknown): value is HeaderSource {
  return typeof value === 'object' && value !== null;
}

/** The value of one header (case-insensitive), first value when repeated; undefined when absent or empty. */
export function readHeader(headers: HeaderSource | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  try {
    if (isHeadersLike(headers)) return headers.get(name) || undefined;
    const wanted = name.toLowerCase();
    for (const [key, value] of Object.entries(headers)) {
      if (key.toLowerCase() !== wanted) continue;
      const first = Array.isArray(value) ? value[0] : value;
      return typeof first === 'string' && first !== '' ? first : undefined;
    }
  } catch {
    // A hostile or exotic headers object must not break the call.
  }
  return undefined;
}

/** The first of several header names that is present. */
export function readFirstHeader(
  headers: HeaderSource | undefined,
  names: readonly string[],
): string | undefined {
  for (const name of names) {
    const value = readHeader(headers, name);
    if (value !== undefined) return value;
  }
  return undefined;
}

/**
 * Seconds to wait, from `retry-after-ms` (OpenAI/Anthropic SDKs) or `retry-after` (delta-seconds or an
 * HTTP date). `nowMs` is injectable for tests.
 */
export function readRetryAfterS(
  headers: HeaderSource | undefined,
  nowMs: number = Date.now(),
): number | undefined {
  const ms = readHeader(headers, 'retry-after-ms');
  if (ms !== undefined && Number.isFinite(Number(ms)) && Number(ms) >= 0) return Number(ms) / 1000;
  const raw = readHeader(headers, 'retry-after')?.trim();
  if (raw === undefined) return undefined;
  if (/^\d+(\.\d+)?$/.test(raw)) return Number(raw);
  const dateMs = Date.parse(raw);
  if (Number.isNaN(dateMs)) return undefined;
  return Math.max(0, Math.round((dateMs - nowMs) / 1000));
}

/** A header as a non-negative number (rate-limit remaining counters); undefined when absent or not numeric. */
export function readNumericHeader(
  headers: HeaderSource | undefined,
  names: readonly string[],
): number | undefined {
  const raw = readFirstHeader(headers, names);
  if (raw === undefined) return undefined;
  const value = Number(raw.trim());
  return Number.isFinite(value) && value >= 0 ? value : undefined;
}
