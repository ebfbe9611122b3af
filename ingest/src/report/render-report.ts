/**
 * Renders a Report for a terminal: one table row per provider × model family × version, each metric as
 * "window (baseline)", degraded rows in red, client-error rows in yellow, then the verdicts and notes.
 * Colours come in as a picocolors instance, so callers decide (TTY, NO_COLOR) and tests pass none.
 */
import Table from 'cli-table3';
import type { Colors } from 'picocolors/types.js';
import type { Report } from './run-report.js';
import type { VersionAssessment, VersionMetrics } from './verdict.js';

const pct = (rate: number): string => `${(rate * 100).toFixed(rate >= 0.1 ? 0 : 1)}%`;
const ms = (v: number | null): string =>
  v === null
    ? '–'
    : v >= 10_000
      ? `${(v / 1000).toFixed(0)}s`
      : v >= 1000
        ? `${(v / 1000).toFixed(1)}s`
        : `${Math.round(v)}ms`;
const rate = (v: number | null): string => (v === null ? '–' : v.toFixed(v >= 100 ? 0 : 1));

type Column = {
  head: string;
  cell: (m: VersionMetrics) => string;
  signal?: VersionAssessment['signals'][number];
};

const COLUMNS: Column[] = [
  { head: 'calls', cell: (m) => String(m.calls) },
  { head: 'fail %', cell: (m) => pct(m.failureRate) },
  { head: 'infra fail %', cell: (m) => pct(m.infraFailureRate), signal: 'infrastructure' },
  { head: 'client fail %', cell: (m) => pct(m.clientFailureRate), signal: 'client' },
  { head: 'quality %', cell: (m) => pct(m.qualityIssueRate), signal: 'quality' },
  { head: 'p50', cell: (m) => ms(m.p50Ms) },
  { head: 'p95', cell: (m) => ms(m.p95Ms), signal: 'latency' },
  { head: 'TTFT p95', cell: (m) => ms(m.ttftP95Ms), signal: 'ttft' },
  { head: 'out tok/s', cell: (m) => rate(m.outputTokensPerS) },
];

function clock(msEpoch: number): string {
  return new Date(msEpoch)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
}

export function renderReportTable(report: Report, colors: Colors): string {
  const lines: string[] = [];
  lines.push(
    colors.bold(`LLM calls ${clock(report.window.fromMs)} → ${clock(report.window.toMs)}`) +
      colors.dim(
        `  (baseline ${clock(report.baseline.fromMs)} → ${clock(report.baseline.toMs)}; values: window (baseline))`,
      ),
  );
  const table = new Table({
    head: ['provider', 'model', 'version', ...COLUMNS.map((c) => c.head), 'signals'].map((h) =>
      colors.bold(h),
    ),
    style: { head: [], border: [] },
    colAligns: ['left', 'left', 'left', ...COLUMNS.map(() => 'right' as const), 'left'],
  });
  for (const v of report.versions) {
    const providerSide = v.signals.some((s) => s !== 'client');
    const paint = providerSide ? colors.red : v.signals.includes('client') ? colors.yellow : (s: string) => s;
    const cells = COLUMNS.map((c) => {
      const text = v.baseline
        ? `${c.cell(v.current)} ${colors.dim(`(${c.cell(v.baseline)})`)}`
        : c.cell(v.current);
      return c.signal && v.signals.includes(c.signal) ? colors.bold(paint(text)) : text;
    });
    const signals = v.judged ? v.signals.join(', ') || colors.green('ok') : colors.dim('too few calls');
    table.push([paint(v.provider), paint(v.family), paint(v.version || '–'), ...cells, paint(signals)]);
  }
  lines.push(table.toString());
  if (report.providerVerdicts.length + report.clientVerdicts.length > 0 || report.localSlowdown) {
    lines.push('', colors.bold('Verdict'));
    if (report.localSlowdown) lines.push(`  ${colors.yellow('●')} ${report.localSlowdown.text}`);
    for (const verdict of report.providerVerdicts) lines.push(`  ${colors.red('●')} ${verdict.text}`);
    for (const verdict of report.clientVerdicts) lines.push(`  ${colors.yellow('●')} ${verdict.text}`);
  } else if (report.versions.length > 0) {
    lines.push('', `${colors.green('●')} no degradation: every judged version is within its baseline`);
  }
  for (const note of report.notes) lines.push(colors.dim(`note: ${note}`));
  return lines.join('\n');
}

/** JSON output: the whole report, times also as ISO strings for people reading it. */
export function renderReportJson(report: Report): string {
  const iso = (w: { fromMs: number; toMs: number }) => ({
    ...w,
    from: new Date(w.fromMs).toISOString(),
    to: new Date(w.toMs).toISOString(),
  });
  return JSON.stringify({ ...report, window: iso(report.window), baseline: iso(report.baseline) }, null, 2);
}
