/**
 * Opt-in content capture: redact, serialise, cap. Kept apart from llm-call.ts so the privacy rules live in
 * one small file that is easy to audit.
 */
import type { ContentKind } from './config.js';
import type { ResolvedInstrumentationConfig } from './internal-types.js';

export const TRUNCATION_MARKER = '…[truncated by modelwatch]';

function truncateUtf8(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  const markerBytes = Buffer.byteLength(TRUNCATION_MARKER, 'utf8');
  const keep = Math.max(0, maxBytes - markerBytes);
  // Cutting mid-character leaves a partial sequence, which decodes as U+FFFD; drop it.
  const head = bytes
    .subarray(0, keep)
    .toString('utf8')
    .replace(/\uFFFD+$/, '');
  return head + TRUNCATION_MARKER;
}

/**
 * The attribute value for one piece of content, or undefined when capture is off, the redact hook dropped
 * it (returned undefined or threw), or it cannot be serialised.
 */
export function contentAttribute(
  config: ResolvedInstrumentationConfig,
  kind: ContentKind,
  value: unknown,
): string | undefined {
  if (!config.captureMessageContent || value === undefined) return undefined;
  let redacted: unknown = value;
  if (config.redact) {
    try {
      redacted = config.redact(kind, value);
    } catch {
      return undefined; // A failing redactor must fail closed: record nothing rather than the raw content.
    }
  }
  if (redacted === undefined) return undefined;
  let json: string | undefined;
  try {
    json = JSON.stringify(redacted);
  } catch {
    return undefined; // circular or BigInt
  }
  if (json === undefined) return undefined;
  return truncateUtf8(json, config.maxContentLengthBytes);
}
