/**
 * `modelwatch report` as a function: reads the window and baseline aggregates, the since-when buckets and
 * the client-failure sources, and hands them to the pure verdict logic. Adds notes a person needs when
 * the table is empty (no data at all, or a filter value that never occurs — the known values are listed).
 */
import { parseModelId } from '@modelwatch/instrumentation';
import type { ClickHouseHandle } from '../clickhouse/client.js';
import type { DegradationRules } from './degradation-rules.js';
import { defaultBucketMs } from './report-window.js';
import {
  chooseSource,
  queryClientFailureSources,
  queryKnownValues,
  queryVersionBuckets,
  queryVersionStats,
  type StatsSource,
} from './report-queries.js';
import type { ReportFilters, TimeWindow } from './types.js';
import { assess, type Assessment } from './verdict.js';

export interface ReportOptions {
  window: TimeWindow;
  baseline: TimeWindow;
  filters?: ReportFilters;
  rules?: Partial<DegradationRules>;
  /** Since-when bucket size; default from the window length (see defaultBucketMs). */
  bucketMs?: number;
  /** @default 'auto': the rollup when every boundary is a whole minute, else llm_calls. */
  source?: StatsSource | 'auto';
  formatTime?: (epochMs: number) => string;
}

export interface Report extends Assessment {
  filters: ReportFilters;
  source: StatsSource;
  bucketMs: number;
  /** Things a reader must know about an empty or partial table. */
  notes: string[];
}

/** `--model` accepts a family (`claude-opus`) or a model id (`claude-opus-4-7` → claude-opus 4.7). */
export function modelFilter(model: string | undefined): Pick<ReportFilters, 'family' | 'version'> {
  if (model === undefined || model === '') return {};
  const parsed = parseModelId(model);
  return parsed.version !== '' && parsed.family !== model
    ? { family: parsed.family, version: parsed.version }
    : { family: parsed.family || model };
}

const FILTER_COLUMNS = [
  ['provider', 'Provider', 'provider'],
  ['family', 'ModelFamily', 'model family'],
  ['version', 'ModelVersion', 'model version'],
  ['service', 'ServiceName', 'service'],
  ['environment', 'Environment', 'environment'],
] as const;

export async function runReport(ch: ClickHouseHandle, options: ReportOptions): Promise<Report> {
  const filters = options.filters ?? {};
  const source =
    options.source === undefined || options.source === 'auto'
      ? chooseSource(options.window, options.baseline)
      : options.source;
  const bucketMs = options.bucketMs ?? defaultBucketMs(options.window);
  const [current, baselineStats, buckets, clientSources] = await Promise.all([
    queryVersionStats(ch, options.window, filters, source),
    queryVersionStats(ch, options.baseline, filters, source),
    queryVersionBuckets(ch, options.window, filters, bucketMs),
    queryClientFailureSources(ch, options.window, filters),
  ]);
  const assessment = assess({
    window: options.window,
    baseline: options.baseline,
    current,
    baselineStats,
    buckets,
    clientSources,
    bucketMs,
    ...(options.rules ? { rules: options.rules } : {}),
    ...(options.formatTime ? { formatTime: options.formatTime } : {}),
  });

  const notes: string[] = [];
  const span = `${new Date(options.window.fromMs).toISOString()} – ${new Date(options.window.toMs).toISOString()}`;
  if (current.length === 0) {
    const given = FILTER_COLUMNS.filter(([key]) => filters[key] !== undefined);
    const searched: TimeWindow = {
      fromMs: Math.min(options.baseline.fromMs, options.window.fromMs),
      toMs: Math.max(options.baseline.toMs, options.window.toMs),
    };
    for (const [key, column, label] of given) {
      const known = await queryKnownValues(ch, column, searched);
      if (!known.includes(filters[key] ?? '')) {
        notes.push(
          `no calls with ${label} "${filters[key]}" in the window or its baseline; known values: ${known.length ? known.join(', ') : '(none)'}`,
        );
      }
    }
    if (notes.length === 0) {
      notes.push(
        given.length
          ? `no calls matching the filters in ${span}`
          : `no LLM calls in ${span} — is anything sending spans, and is \`modelwatch ingest\` running?`,
      );
    }
  } else {
    const unjudged = assessment.versions.filter((v) => !v.judged).length;
    if (unjudged > 0) {
      notes.push(
        `${unjudged} version(s) with fewer than ${assessment.rules.minCalls} calls are shown but not judged`,
      );
    }
  }
  return { ...assessment, filters, source, bucketMs, notes };
}
