/**
 * Demo scenarios: a timeline of phases driving synthetic LLM traffic. A scenario declares its traffic
 * streams once (provider × model id × service, each with a rate, latency/TTFT distributions, streaming
 * share, failure and quality mixes); each phase then overrides what changes in it ("opus 4.7 and 4.8 get
 * overloaded and slower"). One phase is marked `baseline: true`: the report compares against it.
 *
 * Files are YAML or JSON, validated with zod; every problem is reported at once as `path: message`.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { IngestError } from '../errors.js';

const fraction = z.number().min(0).max(1);

/** A latency-like distribution: lognormal fitted to a median and a 95th percentile (milliseconds). */
export const DistributionMsSchema = z
  .strictObject({
    medianMs: z.number().positive(),
    p95Ms: z.number().positive(),
  })
  .refine((d) => d.p95Ms >= d.medianMs, { message: 'p95Ms must be >= medianMs' });
export type DistributionMs = z.infer<typeof DistributionMsSchema>;

export const TokenDistributionSchema = z
  .strictObject({ median: z.number().int().nonnegative(), p95: z.number().int().nonnegative() })
  .refine((d) => d.p95 >= d.median, { message: 'p95 must be >= median' });

/**
 * Share of calls (0..1) that fail in each way. Failure kinds map to what the simulators send:
 * rate_limited = 429 + retry-after, overloaded = 529 (anthropic) / 503 (openai), server_error = 500,
 * timeout = the simulator hangs past the client's timeout, bad_request = 400 (our fault: client origin).
 */
export const FailureMixSchema = z
  .strictObject({
    rate_limited: fraction.optional(),
    overloaded: fraction.optional(),
    server_error: fraction.optional(),
    timeout: fraction.optional(),
    bad_request: fraction.optional(),
  })
  .refine((m) => Object.values(m).reduce((a, b) => a + (b ?? 0), 0) <= 1, {
    message: 'failure shares add up to more than 1',
  });
export type FailureMix = z.infer<typeof FailureMixSchema>;
export type FailureKind = keyof FailureMix;
export const FAILURE_KINDS = [
  'rate_limited',
  'overloaded',
  'server_error',
  'timeout',
  'bad_request',
] as const;

/** Share of *successful* calls with a quality problem: cut off by length, content-filtered, empty output. */
export const QualityMixSchema = z
  .strictObject({
    length: fraction.optional(),
    content_filter: fraction.optional(),
    empty: fraction.optional(),
  })
  .refine((m) => Object.values(m).reduce((a, b) => a + (b ?? 0), 0) <= 1, {
    message: 'quality shares add up to more than 1',
  });
export type QualityMix = z.infer<typeof QualityMixSchema>;
export type QualityKind = keyof QualityMix;
export const QUALITY_KINDS = ['length', 'content_filter', 'empty'] as const;

/** The tunable part of a stream; phases override any of these. */
const StreamBehaviourShape = {
  /** Calls per second (scenario time). */
  ratePerS: z.number().nonnegative(),
  latency: DistributionMsSchema,
  /** Time to first token for streaming calls. */
  ttft: DistributionMsSchema,
  /** Share of calls made with stream: true. */
  streamShare: fraction,
  outputTokens: TokenDistributionSchema,
  failures: FailureMixSchema,
  quality: QualityMixSchema,
};

export const SIMULATED_PROVIDERS = ['openai', 'anthropic'] as const;
export type SimulatedProvider = (typeof SIMULATED_PROVIDERS)[number];

export const StreamSchema = z.strictObject({
  provider: z.enum(SIMULATED_PROVIDERS),
  /** The model id the client requests and the simulator answers with, e.g. `claude-opus-4-7`. */
  model: z.string().min(1),
  /** service.name of the (simulated) calling service. */
  service: z.string().min(1),
  ratePerS: StreamBehaviourShape.ratePerS,
  latency: StreamBehaviourShape.latency,
  ttft: StreamBehaviourShape.ttft.optional(),
  streamShare: StreamBehaviourShape.streamShare.default(0),
  outputTokens: StreamBehaviourShape.outputTokens.default({ median: 120, p95: 400 }),
  failures: StreamBehaviourShape.failures.default({}),
  quality: StreamBehaviourShape.quality.default({}),
});
export type Stream = z.infer<typeof StreamSchema>;

/** Which streams an override applies to: every given field must match (none given = all streams). */
export const StreamMatchSchema = z.strictObject({
  provider: z.enum(SIMULATED_PROVIDERS).optional(),
  model: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
  service: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
});
export type StreamMatch = z.infer<typeof StreamMatchSchema>;

export const OverrideSchema = z.strictObject({
  match: StreamMatchSchema,
  /** Multiplies the stream's rate (applied after ratePerS if both are given). */
  rateFactor: z.number().nonnegative().optional(),
  ratePerS: StreamBehaviourShape.ratePerS.optional(),
  latency: StreamBehaviourShape.latency.optional(),
  ttft: StreamBehaviourShape.ttft.optional(),
  streamShare: StreamBehaviourShape.streamShare.optional(),
  outputTokens: StreamBehaviourShape.outputTokens.optional(),
  failures: StreamBehaviourShape.failures.optional(),
  quality: StreamBehaviourShape.quality.optional(),
});
export type Override = z.infer<typeof OverrideSchema>;

export const PhaseSchema = z.strictObject({
  name: z.string().min(1),
  /** Scenario seconds; divided by the speed factor at run time. */
  durationS: z.number().positive(),
  /** The report's baseline window is this phase (exactly one phase must say so). */
  baseline: z.boolean().default(false),
  description: z.string().optional(),
  overrides: z.array(OverrideSchema).default([]),
});
export type Phase = z.infer<typeof PhaseSchema>;

export const ScenarioSchema = z
  .strictObject({
    name: z.string().min(1),
    description: z.string().optional(),
    /** Client timeout for every call; the `timeout` failure kind hangs past it. */
    clientTimeoutMs: z.number().int().positive().default(2_000),
    /** Upper bound on calls in flight at once, so a slow phase cannot exhaust the machine. */
    maxConcurrency: z.number().int().positive().default(64),
    /** Expected outcome, checked by tests and shown by the demo: which versions should be flagged. */
    expect: z
      .strictObject({
        degraded: z.array(z.strictObject({ provider: z.string(), model: z.string() })).default([]),
        clientErrorServices: z.array(z.string()).default([]),
      })
      .optional(),
    streams: z.array(StreamSchema).min(1),
    phases: z.array(PhaseSchema).min(1),
  })
  .superRefine((s, ctx) => {
    const baselines = s.phases.filter((p) => p.baseline).length;
    if (baselines !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['phases'],
        message: `exactly one phase must have baseline: true (found ${baselines})`,
      });
    }
    const seen = new Set<string>();
    s.streams.forEach((st, i) => {
      const key = `${st.provider}/${st.model}/${st.service}`;
      if (seen.has(key))
        ctx.addIssue({ code: 'custom', path: ['streams', i], message: `duplicate stream ${key}` });
      seen.add(key);
    });
    s.phases.forEach((phase, pi) =>
      phase.overrides.forEach((o, oi) => {
        if (!s.streams.some((st) => matchesStream(o.match, st))) {
          ctx.addIssue({
            code: 'custom',
            path: ['phases', pi, 'overrides', oi, 'match'],
            message: 'matches no stream',
          });
        }
      }),
    );
  });
export type Scenario = z.infer<typeof ScenarioSchema>;

const oneOf = (want: string | string[] | undefined, value: string): boolean =>
  want === undefined || (Array.isArray(want) ? want.includes(value) : want === value);

export function matchesStream(
  match: StreamMatch,
  stream: Pick<Stream, 'provider' | 'model' | 'service'>,
): boolean {
  return (
    (match.provider === undefined || match.provider === stream.provider) &&
    oneOf(match.model, stream.model) &&
    oneOf(match.service, stream.service)
  );
}

/** A stream as it behaves during one phase (overrides applied in order). */
export interface EffectiveStream {
  provider: SimulatedProvider;
  model: string;
  service: string;
  ratePerS: number;
  latency: DistributionMs;
  ttft: DistributionMs;
  streamShare: number;
  outputTokens: { median: number; p95: number };
  failures: FailureMix;
  quality: QualityMix;
}

export function effectiveStream(stream: Stream, phase: Phase): EffectiveStream {
  const out: EffectiveStream = {
    provider: stream.provider,
    model: stream.model,
    service: stream.service,
    ratePerS: stream.ratePerS,
    latency: stream.latency,
    // Without a TTFT distribution, the first token arrives at a fifth of the call's latency.
    ttft: stream.ttft ?? { medianMs: stream.latency.medianMs / 5, p95Ms: stream.latency.p95Ms / 5 },
    streamShare: stream.streamShare,
    outputTokens: stream.outputTokens,
    failures: stream.failures,
    quality: stream.quality,
  };
  for (const o of phase.overrides) {
    if (!matchesStream(o.match, stream)) continue;
    if (o.ratePerS !== undefined) out.ratePerS = o.ratePerS;
    if (o.rateFactor !== undefined) out.ratePerS *= o.rateFactor;
    if (o.latency) out.latency = o.latency;
    if (o.ttft) out.ttft = o.ttft;
    if (o.streamShare !== undefined) out.streamShare = o.streamShare;
    if (o.outputTokens) out.outputTokens = o.outputTokens;
    // A phase's failure/quality mix replaces the stream's (not merged), so "recovered" is simply {}.
    if (o.failures) out.failures = o.failures;
    if (o.quality) out.quality = o.quality;
  }
  return out;
}

/** Formats zod issues as `path: message` lines (path in dotted/indexed form, e.g. phases[1].overrides[0].match). */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    const path = issue.path
      .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
      .join('');
    return `${path || '(root)'}: ${issue.message}`;
  });
}

/** Validates an already-parsed scenario object. Throws IngestError SCENARIO_INVALID listing every problem. */
export function parseScenario(input: unknown, source = 'scenario'): Scenario {
  const result = ScenarioSchema.safeParse(input);
  if (result.success) return result.data;
  const lines = formatIssues(result.error.issues);
  throw new IngestError('SCENARIO_INVALID', `${source} is invalid:\n  ${lines.join('\n  ')}`, {
    cause: result.error,
  });
}

/** Parses scenario text: JSON when the name ends in .json, YAML otherwise (YAML is a superset of JSON). */
export function parseScenarioText(text: string, source = 'scenario'): Scenario {
  let data: unknown;
  try {
    data = extname(source).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new IngestError(
      'SCENARIO_INVALID',
      `${source} is not valid ${extname(source) === '.json' ? 'JSON' : 'YAML'}: ${error instanceof Error ? error.message : String(error)}`,
      {
        cause: error,
      },
    );
  }
  return parseScenario(data, source);
}

export async function loadScenarioFile(path: string): Promise<Scenario> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new IngestError(
      'SCENARIO_INVALID',
      `cannot read scenario file ${path}: ${error instanceof Error ? error.message : String(error)}`,
      {
        cause: error,
      },
    );
  }
  return parseScenarioText(text, path);
}

/** Total scenario duration in seconds (scenario time, before the speed factor). */
export const scenarioDurationS = (s: Scenario): number => s.phases.reduce((sum, p) => sum + p.durationS, 0);

/** The phase active `elapsedS` scenario-seconds after the start, or undefined once the timeline is over. */
export function phaseAt(
  s: Scenario,
  elapsedS: number,
): { phase: Phase; index: number; startS: number } | undefined {
  let startS = 0;
  for (const [index, phase] of s.phases.entries()) {
    if (elapsedS < startS + phase.durationS) return { phase, index, startS };
    startS += phase.durationS;
  }
  return undefined;
}
