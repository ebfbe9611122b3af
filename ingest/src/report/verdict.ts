/**
 * The report's judgement, pure (no SQL, no clock): compares each version's window against its baseline
 * with the rules in degradation-rules.ts, finds since when each flagged version crossed a threshold, and
 * writes one plain-language verdict per affected provider that an on-call engineer can paste, e.g.
 *   "anthropic claude-opus 4.7 and 4.8: provider infrastructure (overloaded 31%, server_error 9%) since
 *    14:02, other anthropic versions normal — disable these versions, not the provider"
 *
 * Signals, and why they are kept apart:
 * - infrastructure: failures of origin `provider` or `network` (5xx, 529 overloaded, 429, timeouts,
 *   connection resets). The network counts with the provider because from the caller's side both mean
 *   "their side is not answering"; our own requests play no part.
 * - client: failures of origin `client` (400, context length, auth). Our requests; never blamed on the
 *   provider, reported per calling service instead.
 * - latency / ttft: p95 slower than baseline without (necessarily) failing.
 * - quality: successful calls cut off by length, stopped by a content filter, or empty.
 * Scope: when every version seen for a provider (and at least two) is degraded the verdict says
 * provider-wide; otherwise it names the versions and says the others are normal.
 * Local slowdown: latency measured by the caller includes the caller. When (nearly) every version of
 * every provider got slower at once, no provider is blamed for latency; one `localSlowdown` says so.
 */
import {
  DEFAULT_RULES,
  latencyDegraded,
  rateDegraded,
  rateThreshold,
  share,
  type DegradationRules,
} from './degradation-rules.js';
import type { ClientFailureSource, TimeWindow, VersionBucket, VersionKey, VersionStats } from './types.js';

export type Signal = 'infrastructure' | 'latency' | 'ttft' | 'quality' | 'client';
/** Signals that point at the provider (as opposed to `client`). */
const PROVIDER_SIGNALS: readonly Signal[] = ['infrastructure', 'latency', 'ttft', 'quality'];

export interface VersionMetrics {
  calls: number;
  /** Fractions 0..1. */
  failureRate: number;
  infraFailureRate: number;
  clientFailureRate: number;
  /** Quality issues among successful calls. */
  qualityIssueRate: number;
  p50Ms: number | null;
  p95Ms: number | null;
  ttftP95Ms: number | null;
  outputTokensPerS: number | null;
}

export interface VersionAssessment extends VersionKey {
  current: VersionMetrics;
  /** Undefined when the version had no calls in the baseline window. */
  baseline?: VersionMetrics;
  /** False when the window has fewer than rules.minCalls calls: shown, never flagged. */
  judged: boolean;
  signals: Signal[];
  /** Failure classes in the window, most frequent first, with their share of calls. */
  topFailureClasses: { failureClass: string; rate: number }[];
  /** Earliest bucket start (epoch ms) at which a flagged signal crossed its threshold. */
  sinceMs?: number;
}

export type VerdictScope = 'versions' | 'provider-wide';

export interface ProviderVerdict {
  provider: string;
  scope: VerdictScope;
  signals: Signal[];
  degraded: VersionKey[];
  /** Versions of the same provider with enough calls and no provider-side signal. */
  healthy: VersionKey[];
  sinceMs?: number;
  text: string;
}

export interface ClientVerdict extends VersionKey {
  services: string[];
  failureClasses: string[];
  clientFailureRate: number;
  sinceMs?: number;
  text: string;
}

export interface LocalSlowdown {
  slowVersions: number;
  judgedVersions: number;
  providers: string[];
  text: string;
}

export interface Assessment {
  window: TimeWindow;
  baseline: TimeWindow;
  rules: DegradationRules;
  versions: VersionAssessment[];
  providerVerdicts: ProviderVerdict[];
  clientVerdicts: ClientVerdict[];
  /** Present when every provider got slower at once (see the module comment). */
  localSlowdown?: LocalSlowdown;
  /** True when anything is flagged: the CLI's exit code 2. */
  degraded: boolean;
}

export interface AssessInput {
  window: TimeWindow;
  baseline: TimeWindow;
  current: readonly VersionStats[];
  baselineStats: readonly VersionStats[];
  buckets?: readonly VersionBucket[];
  clientSources?: readonly ClientFailureSource[];
  rules?: Partial<DegradationRules>;
  /** Formats a time for the verdict text; default local HH:MM (HH:MM:SS when bucketMs < 60 s). */
  formatTime?: (epochMs: number) => string;
  bucketMs?: number;
}

export const keyOf = (k: VersionKey): string => `${k.provider}\u0000${k.family}\u0000${k.version}`;
const sameKey = (a: VersionKey, b: VersionKey): boolean => keyOf(a) === keyOf(b);

export function metricsOf(s: VersionStats): VersionMetrics {
  return {
    calls: s.calls,
    failureRate: share(s.failures, s.calls),
    infraFailureRate: share(s.infraFailures, s.calls),
    clientFailureRate: share(s.clientFailures, s.calls),
    qualityIssueRate: share(s.lengthStops + s.contentFilterStops + s.emptyOutputs, s.successes),
    p50Ms: s.p50Ms,
    p95Ms: s.p95Ms,
    ttftP95Ms: s.ttftP95Ms,
    outputTokensPerS: s.durationMsSum > 0 ? s.outputTokens / (s.durationMsSum / 1000) : null,
  };
}

function signalsOf(cur: VersionMetrics, base: VersionMetrics | undefined, rules: DegradationRules): Signal[] {
  const out: Signal[] = [];
  if (rateDegraded(cur.infraFailureRate, base?.infraFailureRate, rules)) out.push('infrastructure');
  const medianUp =
    cur.p50Ms !== null && base?.p50Ms != null && cur.p50Ms >= rules.latencyMedianFactor * base.p50Ms;
  if (medianUp && latencyDegraded(cur.p95Ms, base?.p95Ms, rules)) out.push('latency');
  if (latencyDegraded(cur.ttftP95Ms, base?.ttftP95Ms, rules)) out.push('ttft');
  if (rateDegraded(cur.qualityIssueRate, base?.qualityIssueRate, rules)) out.push('quality');
  if (rateDegraded(cur.clientFailureRate, base?.clientFailureRate, rules)) out.push('client');
  return out;
}

/** The first bucket (in time order) where the signal crossed its threshold; falls back to the first bucket showing it at all. */
function firstCrossing(
  buckets: readonly VersionBucket[],
  signal: Signal,
  base: VersionMetrics | undefined,
  rules: DegradationRules,
): number | undefined {
  const value = (b: VersionBucket): number | null => {
    switch (signal) {
      case 'infrastructure':
        return share(b.infraFailures, b.calls);
      case 'client':
        return share(b.clientFailures, b.calls);
      case 'quality':
        return share(b.qualityIssues, b.successes);
      case 'latency':
      case 'ttft':
        // Buckets carry duration p95 only; TTFT degradation is dated by the duration's crossing.
        return b.p95Ms;
    }
  };
  const crossed = (b: VersionBucket): boolean => {
    const v = value(b);
    if (v === null || b.calls < rules.minBucketCalls) return false;
    if (signal === 'latency' || signal === 'ttft') return latencyDegraded(v, base?.p95Ms, rules);
    const baseRate =
      signal === 'infrastructure'
        ? base?.infraFailureRate
        : signal === 'client'
          ? base?.clientFailureRate
          : base?.qualityIssueRate;
    return v > 0 && v >= rateThreshold(baseRate, rules);
  };
  const sorted = [...buckets].sort((a, b) => a.startMs - b.startMs);
  const hit =
    sorted.find(crossed) ??
    sorted.find((b) => (value(b) ?? 0) > 0 && signal !== 'latency' && signal !== 'ttft');
  return hit?.startMs;
}

function defaultFormatTime(bucketMs: number): (ms: number) => string {
  const format = new Intl.DateTimeFormat('en-GB', {
    hour: '2-digit',
    minute: '2-digit',
    ...(bucketMs < 60_000 ? { second: '2-digit' } : {}),
    hourCycle: 'h23',
  });
  return (ms) => format.format(new Date(ms));
}

const pct = (rate: number): string =>
  `${rate >= 0.1 ? Math.round(rate * 100) : Math.round(rate * 1000) / 10}%`;
const seconds = (ms: number | null): string =>
  ms === null ? 'n/a' : ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;

/** "claude-opus 4.7 and 4.8, claude-sonnet 4.5" */
export function versionsLabel(keys: readonly VersionKey[]): string {
  const byFamily = new Map<string, string[]>();
  for (const k of keys) byFamily.set(k.family, [...(byFamily.get(k.family) ?? []), k.version]);
  return [...byFamily.entries()]
    .map(([family, versions]) => {
      const named = versions
        .filter((v) => v !== '')
        .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
      if (named.length === 0) return family;
      const list = named.length === 1 ? named[0] : `${named.slice(0, -1).join(', ')} and ${named.at(-1)}`;
      return `${family} ${list}`;
    })
    .join(', ');
}

function describeSignals(vs: readonly VersionAssessment[], signals: readonly Signal[]): string {
  const parts: string[] = [];
  if (signals.includes('infrastructure')) {
    const calls = vs.reduce((n, v) => n + v.current.calls, 0);
    const byClass = new Map<string, number>();
    for (const v of vs) {
      if (!v.signals.includes('infrastructure')) continue;
      for (const c of v.topFailureClasses)
        byClass.set(c.failureClass, (byClass.get(c.failureClass) ?? 0) + c.rate * v.current.calls);
    }
    const classes = [...byClass.entries()]
      .filter(([cls]) => !CLIENT_CLASSES.has(cls))
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([cls, n]) => `${cls} ${pct(share(n, calls))}`);
    parts.push(`provider infrastructure${classes.length ? ` (${classes.join(', ')})` : ''}`);
  }
  const slow = vs.filter((v) => v.signals.includes('latency'));
  if (slow.length > 0) {
    const worst = slow.reduce((a, b) =>
      (b.current.p95Ms ?? 0) / (b.baseline?.p95Ms ?? 1) > (a.current.p95Ms ?? 0) / (a.baseline?.p95Ms ?? 1)
        ? b
        : a,
    );
    parts.push(
      `slower (p95 ${seconds(worst.current.p95Ms)} vs ${seconds(worst.baseline?.p95Ms ?? null)} baseline)`,
    );
  } else if (signals.includes('ttft')) {
    parts.push('slower to first token');
  }
  if (signals.includes('quality')) parts.push('quality signal (responses cut off, filtered or empty)');
  return parts.join(' and ');
}

/** Failure classes whose origin is the client: excluded from the infrastructure breakdown. */
const CLIENT_CLASSES = new Set(['bad_request', 'context_length', 'auth']);

function advice(
  scope: VerdictScope,
  signals: readonly Signal[],
  vs: readonly VersionAssessment[],
  provider: string,
): string {
  if (signals.includes('infrastructure')) {
    const rateLimited = vs.every((v) => v.topFailureClasses[0]?.failureClass === 'rate_limited');
    if (rateLimited)
      return `${provider} is throttling our volume (rate limited), not down — slow down or raise the quota`;
    return scope === 'provider-wide'
      ? `fail over to another provider`
      : `disable these versions, not the provider`;
  }
  if (signals.includes('quality'))
    return `model behaviour, not infrastructure — review prompts and limits or pin another version`;
  return scope === 'provider-wide'
    ? `slower but answering — route latency-sensitive traffic to another provider`
    : `slower but answering — route latency-sensitive traffic to other versions`;
}

export function assess(input: AssessInput): Assessment {
  const rules: DegradationRules = { ...DEFAULT_RULES, ...input.rules };
  const bucketMs = input.bucketMs ?? 60_000;
  const formatTime = input.formatTime ?? defaultFormatTime(bucketMs);
  const baselineByKey = new Map(input.baselineStats.map((s) => [keyOf(s), metricsOf(s)]));
  const bucketsByKey = new Map<string, VersionBucket[]>();
  for (const b of input.buckets ?? []) bucketsByKey.set(keyOf(b), [...(bucketsByKey.get(keyOf(b)) ?? []), b]);

  const versions: VersionAssessment[] = [...input.current]
    .sort(
      (a, b) =>
        a.provider.localeCompare(b.provider) ||
        a.family.localeCompare(b.family) ||
        a.version.localeCompare(b.version, 'en', { numeric: true }),
    )
    .map((s) => {
      const current = metricsOf(s);
      const baseline = baselineByKey.get(keyOf(s));
      const judged = s.calls >= rules.minCalls;
      const signals = judged ? signalsOf(current, baseline, rules) : [];
      const topFailureClasses = Object.entries(s.failuresByClass)
        .filter(([cls, n]) => cls !== '' && n > 0)
        .sort((a, b) => b[1] - a[1])
        .map(([failureClass, n]) => ({ failureClass, rate: share(n, s.calls) }));
      const crossings = signals
        .map((signal) => firstCrossing(bucketsByKey.get(keyOf(s)) ?? [], signal, baseline, rules))
        .filter((t): t is number => t !== undefined);
      return {
        provider: s.provider,
        family: s.family,
        version: s.version,
        current,
        ...(baseline ? { baseline } : {}),
        judged,
        signals,
        topFailureClasses,
        ...(crossings.length ? { sinceMs: Math.min(...crossings) } : {}),
      };
    });

  const localSlowdown = findLocalSlowdown(versions, rules);
  if (localSlowdown) {
    for (const v of versions)
      v.signals = v.signals.filter((signal) => signal !== 'latency' && signal !== 'ttft');
  }

  const providerVerdicts: ProviderVerdict[] = [];
  for (const provider of [...new Set(versions.map((v) => v.provider))]) {
    const own = versions.filter((v) => v.provider === provider && v.judged);
    const degradedVs = own.filter((v) => v.signals.some((s) => PROVIDER_SIGNALS.includes(s)));
    if (degradedVs.length === 0) continue;
    const healthyVs = own.filter((v) => !degradedVs.includes(v));
    const scope: VerdictScope = healthyVs.length === 0 && own.length >= 2 ? 'provider-wide' : 'versions';
    const signals = PROVIDER_SIGNALS.filter((s) => degradedVs.some((v) => v.signals.includes(s)));
    const sinceTimes = degradedVs.map((v) => v.sinceMs).filter((t): t is number => t !== undefined);
    const sinceMs = sinceTimes.length ? Math.min(...sinceTimes) : undefined;
    const subject =
      scope === 'provider-wide'
        ? `${provider} (all ${own.length} versions: ${versionsLabel(degradedVs)})`
        : `${provider} ${versionsLabel(degradedVs)}`;
    const since = sinceMs === undefined ? '' : ` since ${formatTime(sinceMs)}`;
    const others =
      scope === 'provider-wide'
        ? 'provider-wide'
        : healthyVs.length > 0
          ? `other ${provider} versions normal`
          : `the only ${provider} version with enough calls to judge`;
    const text = `${subject}: ${describeSignals(degradedVs, signals)}${since}, ${others} — ${advice(scope, signals, degradedVs, provider)}`;
    providerVerdicts.push({
      provider,
      scope,
      signals,
      degraded: degradedVs.map(({ provider: p, family, version }) => ({ provider: p, family, version })),
      healthy: healthyVs.map(({ provider: p, family, version }) => ({ provider: p, family, version })),
      ...(sinceMs !== undefined ? { sinceMs } : {}),
      text,
    });
  }

  const clientVerdicts: ClientVerdict[] = versions
    .filter((v) => v.signals.includes('client'))
    .map((v) => {
      const sources = (input.clientSources ?? [])
        .filter((c) => sameKey(c, v) && c.clientFailures > 0)
        .sort((a, b) => b.clientFailures - a.clientFailures);
      const services = sources.map((c) => c.service);
      const failureClasses = v.topFailureClasses
        .map((c) => c.failureClass)
        .filter((c) => CLIENT_CLASSES.has(c));
      const bucket = bucketsByKey.get(keyOf(v)) ?? [];
      const sinceMs = firstCrossing(bucket, 'client', v.baseline, rules);
      const who = services.length ? services.join(', ') : 'our services';
      const providerHealthy = !v.signals.some((s) => PROVIDER_SIGNALS.includes(s));
      const text =
        `${who} → ${v.provider} ${versionsLabel([v])}: client errors (${failureClasses.join(', ') || 'client'} ${pct(v.current.clientFailureRate)} of calls)` +
        `${sinceMs === undefined ? '' : ` since ${formatTime(sinceMs)}`} — our requests are rejected, fix the calling service` +
        (providerHealthy ? `; ${v.provider} itself is healthy` : '');
      return {
        provider: v.provider,
        family: v.family,
        version: v.version,
        services,
        failureClasses,
        clientFailureRate: v.current.clientFailureRate,
        ...(sinceMs !== undefined ? { sinceMs } : {}),
        text,
      };
    });

  return {
    window: input.window,
    baseline: input.baseline,
    rules,
    versions,
    providerVerdicts,
    clientVerdicts,
    ...(localSlowdown ? { localSlowdown } : {}),
    degraded: localSlowdown !== undefined || versions.some((v) => v.signals.length > 0),
  };
}

function findLocalSlowdown(
  versions: readonly VersionAssessment[],
  rules: DegradationRules,
): LocalSlowdown | undefined {
  const judged = versions.filter((v) => v.judged);
  const slow = judged.filter((v) => v.signals.includes('latency') || v.signals.includes('ttft'));
  const providers = [...new Set(judged.map((v) => v.provider))];
  const slowProviders = new Set(slow.map((v) => v.provider));
  if (providers.length < 2 || providers.some((p) => !slowProviders.has(p))) return undefined;
  if (slow.length < rules.localSlowdownShare * judged.length) return undefined;
  return {
    slowVersions: slow.length,
    judgedVersions: judged.length,
    providers,
    text:
      `${slow.length} of ${judged.length} versions across ${providers.join(', ')} got slower at once — ` +
      `likely our side (host load, network, proxy), not a provider; latency is not blamed on any version`,
  };
}
