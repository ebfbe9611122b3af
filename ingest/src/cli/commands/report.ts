/** `modelwatch report`: failures and latency by provider × model × version against a baseline, with a verdict. */
import { defineCommand } from 'citty';
import {
  parseDurationMs,
  resolveWindows,
  DEFAULT_BASELINE,
  DEFAULT_SINCE,
} from '../../report/report-window.js';
import { modelFilter, runReport } from '../../report/run-report.js';
import { renderReportJson, renderReportTable } from '../../report/render-report.js';
import { EXIT_DEGRADED, EXIT_OK } from '../exit-codes.js';
import { colorsFor, out } from '../terminal.js';
import { positiveIntFlag, storeArgs, withStore } from './_shared.js';

export default defineCommand({
  meta: {
    name: 'report',
    description:
      'Which provider / model / version is failing or slow, and is it their infrastructure, our requests or the model. Exit code 2 when something is degraded.',
  },
  args: {
    since: {
      type: 'string',
      description: `window: the last DURATION, whole minutes (default ${DEFAULT_SINCE})`,
      valueHint: 'duration',
    },
    from: { type: 'string', description: 'window start, ISO 8601 (instead of --since)', valueHint: 'time' },
    to: { type: 'string', description: 'window end, ISO 8601 (default now)', valueHint: 'time' },
    baseline: {
      type: 'string',
      description: `baseline: the DURATION before the window (default ${DEFAULT_BASELINE})`,
      valueHint: 'duration',
    },
    'baseline-from': { type: 'string', description: 'explicit baseline start, ISO 8601', valueHint: 'time' },
    'baseline-to': { type: 'string', description: 'explicit baseline end, ISO 8601', valueHint: 'time' },
    provider: { type: 'string', description: 'only this provider (gen_ai.provider.name), e.g. anthropic' },
    model: {
      type: 'string',
      description: 'only this model family (claude-opus) or model id (claude-opus-4-7 → that version)',
    },
    service: { type: 'string', description: 'only calls from this service.name' },
    environment: { type: 'string', description: 'only this deployment environment' },
    format: { type: 'enum', options: ['table', 'json'], default: 'table', description: 'output format' },
    'min-calls': {
      type: 'string',
      description: 'fewest calls in the window for a version to be judged (default 20)',
    },
    bucket: {
      type: 'string',
      description: 'since-when resolution, e.g. 1m or 10s (default from the window length)',
      valueHint: 'duration',
    },
    ...storeArgs,
  },
  async run({ args }) {
    const { window, baseline } = resolveWindows(
      {
        since: args.since,
        from: args.from,
        to: args.to,
        baseline: args.baseline,
        baselineFrom: args['baseline-from'],
        baselineTo: args['baseline-to'],
      },
      Date.now(),
    );
    const minCalls = positiveIntFlag(args['min-calls'], 'min-calls');
    const report = await withStore(args, (ch) =>
      runReport(ch, {
        window,
        baseline,
        filters: {
          provider: args.provider,
          ...modelFilter(args.model),
          service: args.service,
          environment: args.environment,
        },
        ...(minCalls !== undefined ? { rules: { minCalls } } : {}),
        ...(args.bucket !== undefined ? { bucketMs: parseDurationMs(args.bucket, '--bucket') } : {}),
      }),
    );
    out(
      args.format === 'json'
        ? renderReportJson(report)
        : renderReportTable(report, colorsFor(process.stdout)),
    );
    return report.degraded ? EXIT_DEGRADED : EXIT_OK;
  },
});
