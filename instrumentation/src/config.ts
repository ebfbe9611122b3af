/**
 * The public configuration of the instrumentations and the manual API, with defaults and env overrides.
 * This is the only module of the package that reads `process.env` for instrumentation behaviour.
 */
import { diag } from '@opentelemetry/api';
import type { InstrumentationConfig } from '@opentelemetry/instrumentation';
import type { ResolvedInstrumentationConfig } from './internal-types.js';

/** Which piece of content a redact hook is looking at. */
export type ContentKind = 'input' | 'output' | 'system';

/**
 * Fixes `gen_ai.provider.name`: a constant, or a function of the client's base URL (return undefined to
 * fall back to the built-in host table of `providerFromBaseUrl`).
 */
export type ProviderOverride = string | ((baseURL?: string) => string | undefined);

export interface ModelwatchInstrumentationConfig extends InstrumentationConfig {
  /**
   * Record prompts and completions (`gen_ai.input.messages`, `gen_ai.output.messages`,
   * `gen_ai.system_instructions`) as JSON strings on the span.
   * @default false — env `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true` turns it on when unset here.
   */
  captureMessageContent?: boolean;
  /**
   * Called with each piece of content before it is recorded; return a replacement (e.g. with PII masked).
   * Returning `undefined` drops that piece. If the hook throws, the piece is dropped.
   * @default undefined (content recorded as given, when capture is on)
   */
  redact?: (kind: ContentKind, value: unknown) => unknown;
  /**
   * Upper bound of each recorded content attribute, in UTF-8 bytes; longer values are cut and marked.
   * @default 16384 — env `MODELWATCH_MAX_CONTENT_LENGTH_BYTES`
   */
  maxContentLengthBytes?: number;
  /**
   * Overrides the detected `gen_ai.provider.name` (e.g. for an OpenAI-compatible gateway the host table
   * does not know).
   * @default undefined (detected from the SDK and its base URL) — env `MODELWATCH_PROVIDER` (string form)
   */
  providerOverride?: ProviderOverride;
  /**
   * Whether the instrumentation patches the SDK at all.
   * @default true — env `MODELWATCH_INSTRUMENTATION_ENABLED=false` disables it
   */
  enabled?: boolean;
}

export const DEFAULT_MAX_CONTENT_LENGTH_BYTES = 16 * 1024;

type Env = Readonly<Record<string, string | undefined>>;

// Each distinct problem is logged once per process, not once per LLM call.
const warned = new Set<string>();

function parseBooleanEnv(name: string, env: Env, problems: string[]): boolean | undefined {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return undefined;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  problems.push(`${name} must be true or false, got "${env[name]}"`);
  return undefined;
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}

/**
 * Applies defaults and env overrides. Never throws: every invalid field is reported in one `diag.warn`
 * and replaced by its default, because a typo in observability config must not take the host app down.
 */
export function resolveInstrumentationConfig(
  config: ModelwatchInstrumentationConfig = {},
  env: Env = process.env,
): ResolvedInstrumentationConfig {
  const problems: string[] = [];
  const input: ModelwatchInstrumentationConfig =
    typeof config === 'object' && config !== null ? config : (problems.push('config must be an object'), {});

  let captureMessageContent = parseBooleanEnv(
    'OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT',
    env,
    problems,
  );
  if (input.captureMessageContent !== undefined) {
    if (typeof input.captureMessageContent === 'boolean') captureMessageContent = input.captureMessageContent;
    else problems.push('captureMessageContent must be a boolean');
  }

  let enabled = parseBooleanEnv('MODELWATCH_INSTRUMENTATION_ENABLED', env, problems);
  if (input.enabled !== undefined) {
    if (typeof input.enabled === 'boolean') enabled = input.enabled;
    else problems.push('enabled must be a boolean');
  }

  let maxContentLengthBytes = DEFAULT_MAX_CONTENT_LENGTH_BYTES;
  const envMax = env.MODELWATCH_MAX_CONTENT_LENGTH_BYTES?.trim();
  if (envMax) {
    const parsed = Number(envMax);
    if (isPositiveInteger(parsed)) maxContentLengthBytes = parsed;
    else problems.push(`MODELWATCH_MAX_CONTENT_LENGTH_BYTES must be a positive integer, got "${envMax}"`);
  }
  if (input.maxContentLengthBytes !== undefined) {
    if (isPositiveInteger(input.maxContentLengthBytes)) maxContentLengthBytes = input.maxContentLengthBytes;
    else
      problems.push(
        `maxContentLengthBytes must be a positive integer, got ${String(input.maxContentLengthBytes)}`,
      );
  }

  let redact: ResolvedInstrumentationConfig['redact'];
  if (input.redact !== undefined) {
    if (typeof input.redact === 'function') redact = input.redact;
    else problems.push('redact must be a function (kind, value) => value');
  }

  let providerOverride: ProviderOverride | undefined = env.MODELWATCH_PROVIDER?.trim() || undefined;
  if (input.providerOverride !== undefined) {
    const override = input.providerOverride;
    if ((typeof override === 'string' && override !== '') || typeof override === 'function') {
      providerOverride = override;
    } else
      problems.push(
        'providerOverride must be a non-empty string or a function (baseURL) => string | undefined',
      );
  }

  if (problems.length > 0) {
    const message = `modelwatch: invalid instrumentation config, using defaults for: ${problems.join('; ')}`;
    if (!warned.has(message)) {
      warned.add(message);
      diag.warn(message);
    }
  }
  return {
    enabled: enabled ?? true,
    captureMessageContent: captureMessageContent ?? false,
    redact,
    maxContentLengthBytes,
    providerOverride,
  };
}
