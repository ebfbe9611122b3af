/**
 * What one simulated call will do, decided by the traffic generator from the phase's stream behaviour
 * (pure, seeded — the same scenario and seed give the same calls), and how each simulator replies to it.
 * The plan travels to the simulator in a request header, so the generator knows every call's intended
 * outcome and the simulator only translates it into its provider's wire format.
 */
import type { Reply } from '../simulators/reply.js';
import type {
  DistributionMs,
  EffectiveStream,
  FailureKind,
  QualityKind,
  SimulatedProvider,
} from './scenario.js';
import { FAILURE_KINDS, QUALITY_KINDS } from './scenario.js';

export const PLAN_HEADER = 'x-modelwatch-demo-plan';

export type Outcome = 'ok' | FailureKind | QualityKind;

export interface CallPlan {
  outcome: Outcome;
  stream: boolean;
  latencyMs: number;
  ttftMs: number;
  outputTokens: number;
}

/** mulberry32: a tiny seeded PRNG, plenty for traffic shapes. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function standardNormal(random: () => number): number {
  // Box–Muller; 1 - u keeps log() away from 0.
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** A lognormal sample with the given median and 95th percentile (z(0.95) = 1.645). */
export function sampleLognormal(d: { median: number; p95: number }, random: () => number): number {
  const sigma = d.p95 > d.median && d.median > 0 ? Math.log(d.p95 / d.median) / 1.645 : 0;
  return d.median * Math.exp(sigma * standardNormal(random));
}

const ms = (d: DistributionMs) => ({ median: d.medianMs, p95: d.p95Ms });

function pick<K extends string>(
  kinds: readonly K[],
  shares: Partial<Record<K, number>>,
  random: () => number,
): K | undefined {
  let r = random();
  for (const kind of kinds) {
    r -= shares[kind] ?? 0;
    if (r < 0) return kind;
  }
  return undefined;
}

export function planCall(stream: EffectiveStream, clientTimeoutMs: number, random: () => number): CallPlan {
  const failure = pick(FAILURE_KINDS, stream.failures, random);
  const quality = failure === undefined ? pick(QUALITY_KINDS, stream.quality, random) : undefined;
  // Keep successful calls clear of the client timeout: a timeout must only happen when planned.
  const latencyMs = Math.min(sampleLognormal(ms(stream.latency), random), clientTimeoutMs * 0.8);
  const ttftMs = Math.min(sampleLognormal(ms(stream.ttft), random), latencyMs);
  return {
    outcome: failure ?? quality ?? 'ok',
    stream: random() < stream.streamShare,
    latencyMs: Math.round(latencyMs),
    ttftMs: Math.round(ttftMs),
    outputTokens:
      quality === 'empty' ? 0 : Math.max(1, Math.round(sampleLognormal(stream.outputTokens, random))),
  };
}

const FINISH: Record<SimulatedProvider, Record<'ok' | 'length' | 'content_filter' | 'empty', string>> = {
  openai: { ok: 'stop', length: 'length', content_filter: 'content_filter', empty: 'stop' },
  anthropic: { ok: 'end_turn', length: 'max_tokens', content_filter: 'refusal', empty: 'end_turn' },
};

/** The simulator's reply for a plan. Error replies come back quickly (a few ms), as real rejections do. */
export function replyFor(provider: SimulatedProvider, plan: CallPlan): Reply {
  const quick = Math.min(plan.latencyMs, 50 + (plan.latencyMs % 100));
  switch (plan.outcome) {
    case 'rate_limited':
      return { kind: 'error', status: 429, retryAfterS: 1, delayMs: quick };
    case 'overloaded':
      return { kind: 'error', status: provider === 'anthropic' ? 529 : 503, delayMs: quick };
    case 'server_error':
      return { kind: 'error', status: 500, delayMs: plan.latencyMs };
    case 'timeout':
      return { kind: 'hang' };
    case 'bad_request':
      return {
        kind: 'error',
        status: 400,
        errorType: 'invalid_request',
        message: 'messages: field required',
        delayMs: quick,
      };
    default: {
      const finishReason = FINISH[provider][plan.outcome];
      const content = {
        outputTokens: plan.outputTokens,
        finishReason,
        ...(plan.outcome === 'empty' ? { text: '' } : {}),
      };
      if (plan.stream) {
        const chunks = 4;
        return {
          kind: 'stream',
          ...content,
          firstTokenDelayMs: plan.ttftMs,
          chunks,
          chunkDelayMs: Math.max(0, Math.round((plan.latencyMs - plan.ttftMs) / chunks)),
        };
      }
      return { kind: 'success', ...content, delayMs: plan.latencyMs };
    }
  }
}
