/** `modelwatch demo`: Kafka + ClickHouse + gateway + consumer + simulated traffic + the report, in about a minute. */
import { defineCommand } from 'citty';
import cliProgress from 'cli-progress';
import { parseModelId } from '@modelwatch/instrumentation';
import {
  DEFAULT_SCENARIO_PATH,
  DemoInterruptedError,
  runDemo,
  unexpectedFindings,
} from '../../demo/run-demo.js';
import { renderReportJson, renderReportTable } from '../../report/render-report.js';
import { EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_OK, EXIT_SERVICE_FAILED } from '../exit-codes.js';
import { colorsFor, err, out } from '../terminal.js';
import { envWithStoreFlags, positiveNumberFlag, storeArgs } from './_shared.js';

export default defineCommand({
  meta: {
    name: 'demo',
    description:
      'Run the whole pipeline locally with simulated OpenAI/Anthropic traffic from a scenario (default: two claude-opus versions degrade), then print the report.',
  },
  args: {
    scenario: {
      type: 'string',
      description: `scenario file, YAML or JSON (default ${DEFAULT_SCENARIO_PATH})`,
      valueHint: 'file',
    },
    speed: {
      type: 'string',
      description: 'timeline speed-up, e.g. 2 halves every phase (default 1, about 45 s)',
    },
    format: {
      type: 'enum',
      options: ['table', 'json'],
      default: 'table',
      description: 'report output format',
    },
    'kafka-brokers': {
      type: 'string',
      description: 'use this Kafka (env KAFKA_BROKERS) instead of starting a local broker',
    },
    ...storeArgs,
  },
  async run({ args }) {
    const colors = colorsFor(process.stderr);
    const env = envWithStoreFlags(args, {
      ...process.env,
      ...(args['kafka-brokers'] !== undefined ? { KAFKA_BROKERS: args['kafka-brokers'] } : {}),
    });
    const abort = new AbortController();
    const onSigint = (): void => {
      err(colors.yellow('\nstopping the traffic and cleaning up (Ctrl-C again to quit at once)…'));
      abort.abort();
      process.once('SIGINT', () => process.exit(EXIT_INTERRUPTED));
    };
    process.once('SIGINT', onSigint);
    process.once('SIGTERM', onSigint);

    // A live bar on a terminal; a line every ~5 s otherwise (CI logs).
    const bar = process.stderr.isTTY
      ? new cliProgress.SingleBar(
          {
            stream: process.stderr,
            format:
              ' {bar} {percentage}% | {phase} | calls {started} | done {finished} | failed {failed} | in flight {inFlight}',
            hideCursor: true,
            clearOnComplete: true,
          },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
    let barStarted = false;
    let lastLineMs = 0;
    const speed = positiveNumberFlag(args.speed, 'speed') ?? 1;
    try {
      const result = await runDemo({
        env,
        speed,
        ...(args.scenario !== undefined ? { scenario: args.scenario } : {}),
        signal: abort.signal,
        status: (line) => {
          if (!barStarted) err(colors.dim(line));
        },
        onProgress: (p) => {
          const payload = {
            phase: p.phase ?? '',
            started: p.started,
            finished: p.finished,
            failed: p.failed,
            inFlight: p.inFlight,
          };
          if (bar) {
            if (!barStarted) bar.start(Math.round(p.totalMs), 0, payload);
            barStarted = true;
            bar.update(Math.round(p.elapsedMs), payload);
          } else if (p.elapsedMs - lastLineMs >= 5_000 || p.elapsedMs >= p.totalMs) {
            lastLineMs = p.elapsedMs;
            err(
              colors.dim(
                `  ${Math.round(p.elapsedMs / 1000)}s/${Math.round(p.totalMs / 1000)}s ${p.phase ?? ''}: ${p.started} calls, ${p.failed} failed, ${p.inFlight} in flight`,
              ),
            );
          }
        },
      });
      bar?.stop();
      barStarted = false;

      if (result.aborted) {
        // A report over a cut-short run would judge versions on a few seconds: say what ran, not more.
        err(
          `interrupted: run ${result.runId} made ${result.traffic.calls} calls, gateway acknowledged ${result.gatewaySpans} spans, ${result.rows} rows in llm_calls; everything it started is stopped`,
        );
        err(`data: ${result.store} (kept)`);
        return EXIT_INTERRUPTED;
      }
      out(
        args.format === 'json'
          ? renderReportJson(result.report)
          : renderReportTable(result.report, colorsFor(process.stdout)),
      );
      err('');
      err(
        `run ${result.runId}: ${result.traffic.calls} calls made, gateway acknowledged ${result.gatewaySpans} spans, ${result.rows} rows in llm_calls`,
      );
      err(
        `data: ${result.store}; Kafka ${result.kafka.brokers} (${result.kafka.source}), topic ${result.topic}`,
      );
      err(colors.bold('next:'));
      const cli = cliAsInvoked();
      err(`  ${cli} report --since 15m --environment demo      # the same breakdown, any window`);
      err(
        `  ${cli} query "SELECT Provider, ModelFamily, ModelVersion, FailureClass, count() FROM llm_calls WHERE Environment = 'demo' GROUP BY ALL ORDER BY 5 DESC"`,
      );
      err(`  docker compose up   # Kafka + ClickHouse + Grafana with the generated dashboards`);

      if (result.rows !== result.traffic.calls) {
        err(
          colors.red(
            `modelwatch: ${result.traffic.calls} calls were made but ${result.rows} rows reached ClickHouse`,
          ),
        );
        return EXIT_SERVICE_FAILED;
      }
      const expected = (result.scenario.expect?.degraded ?? []).map((e) => {
        const parsed = parseModelId(e.model);
        return { provider: e.provider, family: parsed.family, version: parsed.version };
      });
      const surprises = result.scenario.expect ? unexpectedFindings(result, expected) : [];
      if (surprises.length > 0) {
        err(
          colors.yellow(
            `the report differs from what scenario "${result.scenario.name}" expects: ${surprises.join('; ')}`,
          ),
        );
        return EXIT_INTERNAL;
      }
      return EXIT_OK;
    } catch (error) {
      if (!(error instanceof DemoInterruptedError)) throw error;
      err(`interrupted before the traffic started; everything started so far is stopped`);
      return EXIT_INTERRUPTED;
    } finally {
      bar?.stop();
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigint);
    }
  },
});

/**
 * How the user runs the CLI, for the commands the demo suggests next: in this repository `npm run demo` has no
 * `modelwatch` on the PATH (the bin needs a build), so the suggestion must be `npm run modelwatch -- …`.
 */
export function cliAsInvoked(env: NodeJS.ProcessEnv = process.env): string {
  const viaNpmScript = env.npm_lifecycle_event === 'demo' || env.npm_lifecycle_event === 'modelwatch';
  return viaNpmScript ? 'npm run modelwatch --' : 'modelwatch';
}
