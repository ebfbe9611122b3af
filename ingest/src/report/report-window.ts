/**
 * Report windows from flags: `--since 15m` (rounded out to whole minutes so the per-minute rollup can
 * answer), or `--from/--to` ISO times; the baseline is the `--baseline` duration right before the window
 * (default 24 h), or an explicit `--baseline-from/--baseline-to` (the demo passes its healthy phase).
 */
import { IngestError } from '../errors.js';
import type { TimeWindow } from './types.js';

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** Parses `90s`, `15m`, `1.5h`, `2d`, `1w` (a bare number is seconds). Throws CONFIG_INVALID naming `flag`. */
export function parseDurationMs(text: string, flag: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$/i.exec(text);
  const unit = (match?.[2]?.toLowerCase() ?? 's') as keyof typeof UNIT_MS;
  const value = match ? Number(match[1]) * UNIT_MS[unit] : Number.NaN;
  if (!Number.isFinite(value) || value <= 0) {
    throw new IngestError(
      'CONFIG_INVALID',
      `${flag}: "${text}" is not a duration (examples: 90s, 15m, 2h, 1d)`,
    );
  }
  return Math.round(value);
}

/** Parses an ISO-8601 time (or epoch milliseconds). Throws CONFIG_INVALID naming `flag`. */
export function parseTimeMs(text: string, flag: string): number {
  const ms = /^\d{10,}$/.test(text.trim()) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(ms)) {
    throw new IngestError(
      'CONFIG_INVALID',
      `${flag}: "${text}" is not a time (use ISO 8601, e.g. 2026-05-01T14:00:00Z)`,
    );
  }
  return ms;
}

export interface WindowFlags {
  since?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  baseline?: string | undefined;
  baselineFrom?: string | undefined;
  baselineTo?: string | undefined;
}

export const DEFAULT_SINCE = '15m';
export const DEFAULT_BASELINE = '24h';
const MINUTE_MS = 60_000;

export function resolveWindows(
  flags: WindowFlags,
  nowMs: number,
): { window: TimeWindow; baseline: TimeWindow } {
  if (flags.since !== undefined && (flags.from !== undefined || flags.to !== undefined)) {
    throw new IngestError('CONFIG_INVALID', '--since cannot be combined with --from/--to');
  }
  let window: TimeWindow;
  if (flags.from !== undefined || flags.to !== undefined) {
    if (flags.from === undefined) throw new IngestError('CONFIG_INVALID', '--to needs --from');
    const fromMs = parseTimeMs(flags.from, '--from');
    const toMs = flags.to === undefined ? nowMs : parseTimeMs(flags.to, '--to');
    window = { fromMs, toMs };
  } else {
    const sinceMs = parseDurationMs(flags.since ?? DEFAULT_SINCE, '--since');
    // Include the current, partial minute; start on a minute boundary.
    const toMs = Math.floor(nowMs / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
    window = { fromMs: Math.floor((toMs - sinceMs) / MINUTE_MS) * MINUTE_MS, toMs };
  }
  if (window.toMs <= window.fromMs) {
    throw new IngestError(
      'CONFIG_INVALID',
      `--to (${new Date(window.toMs).toISOString()}) must be after --from (${new Date(window.fromMs).toISOString()})`,
    );
  }

  let baseline: TimeWindow;
  if (flags.baselineFrom !== undefined || flags.baselineTo !== undefined) {
    if (flags.baseline !== undefined)
      throw new IngestError(
        'CONFIG_INVALID',
        '--baseline cannot be combined with --baseline-from/--baseline-to',
      );
    if (flags.baselineFrom === undefined || flags.baselineTo === undefined) {
      throw new IngestError('CONFIG_INVALID', '--baseline-from and --baseline-to go together');
    }
    baseline = {
      fromMs: parseTimeMs(flags.baselineFrom, '--baseline-from'),
      toMs: parseTimeMs(flags.baselineTo, '--baseline-to'),
    };
    if (baseline.toMs <= baseline.fromMs)
      throw new IngestError('CONFIG_INVALID', '--baseline-to must be after --baseline-from');
  } else {
    const lengthMs = parseDurationMs(flags.baseline ?? DEFAULT_BASELINE, '--baseline');
    baseline = { fromMs: window.fromMs - lengthMs, toMs: window.fromMs };
  }
  return { window, baseline };
}

/** Bucket size for since-when: a minute for windows of 30 min and more, else ~1/30 of the window (≥ 5 s). */
export function defaultBucketMs(window: TimeWindow): number {
  const lengthMs = window.toMs - window.fromMs;
  if (lengthMs >= 30 * MINUTE_MS) return MINUTE_MS;
  return Math.max(5_000, Math.round(lengthMs / 30 / 5_000) * 5_000);
}
