/**
 * What the OpenAI overhead benchmarks share: the simulator in a child process, and the three arms —
 * no instrumentation, modelwatch, and the OpenTelemetry contrib `@opentelemetry/instrumentation-openai` —
 * each on its OWN copy of the `openai` 6 module (the npm alias `openai-v6`, loaded once per arm as
 * CommonJS with its files dropped from require.cache in between; contrib 0.22 supports `openai` <7 only).
 * Each instrumentation patches its copy once, for the whole run, as in a service: arms can alternate every
 * few calls without patching and unpatching shared prototypes, which invalidated V8's inline caches for
 * every call site through them on each switch.
 *
 * Both instrumentations get an identical TracerProvider: BatchSpanProcessor → an exporter that accepts and
 * drops every batch, so span creation and processing are measured, not network export. Contrib's log
 * events and metrics go to the API's no-op global providers (its default when none are set up).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { context, metrics } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OpenAIInstrumentation as ContribOpenAIInstrumentation } from '@opentelemetry/instrumentation-openai';
import {
  BatchSpanProcessor,
  TracerProvider,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace';
import type OpenAI from 'openai-v6';
import {
  ATTR_MODELWATCH_MODEL_VERSION,
  ATTR_MODELWATCH_TIME_TO_FIRST_TOKEN_MS,
} from '@modelwatch/instrumentation';

type ModelwatchPackage = typeof import('@modelwatch/instrumentation');

/**
 * The modelwatch build to measure. By default the compiled package (`instrumentation/dist`, rebuilt first
 * with `tsc -b` so it matches the source): that is what users run, and contrib is measured as published
 * too. `source: true` measures the TypeScript source as tsx transforms it (which adds a `__name` helper
 * call to every closure it creates, a few µs per call that users never pay).
 */
export async function loadModelwatch(
  source: boolean,
  { build = true }: { build?: boolean } = {},
): Promise<{ module: ModelwatchPackage; label: string }> {
  if (source)
    return { module: await import('@modelwatch/instrumentation'), label: 'TypeScript source via tsx' };
  if (build) buildInstrumentation();
  const module = (await import(
    new URL('../../instrumentation/dist/index.js', import.meta.url).href
  )) as ModelwatchPackage;
  return { module, label: 'compiled package (instrumentation/dist)' };
}

/** `tsc -b instrumentation`: the compiled package the benchmarks load, brought up to date with the source. */
export function buildInstrumentation(): void {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const build = spawnSync(process.execPath, [tsc, '-b', 'instrumentation'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('tsc -b instrumentation failed; fix the build or pass --source');
}

/** What an arm's spans carried, to show the two instrumentations did comparable (or more) work. */
export interface SpanTally {
  spans: number;
  attributes: number;
  /** Spans with a parsed model version / a time-to-first-token attribute. */
  withModelVersion: number;
  withTtft: number;
}

/** Accepts and drops every batch; tallies spans and attributes so each arm's output can be checked. */
export class DroppingExporter implements SpanExporter {
  readonly tally: SpanTally = { spans: 0, attributes: 0, withModelVersion: 0, withTtft: 0 };
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    for (const span of spans) {
      this.tally.spans++;
      this.tally.attributes += Object.keys(span.attributes).length;
      if (span.attributes[ATTR_MODELWATCH_MODEL_VERSION] !== undefined) this.tally.withModelVersion++;
      if (span.attributes[ATTR_MODELWATCH_TIME_TO_FIRST_TOKEN_MS] !== undefined) this.tally.withTtft++;
    }
    done({ code: ExportResultCode.SUCCESS });
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

function tracerProvider(exporter: SpanExporter): TracerProvider {
  return new TracerProvider({
    spanProcessors: [
      new BatchSpanProcessor({
        exporter,
        maxQueueSize: 8192,
        maxExportBatchSize: 512,
        scheduledDelayMillis: 200,
      }),
    ],
  });
}

export interface SimulatorProcess {
  baseURL: string;
  stop(): Promise<void>;
}

/** Starts a simulator process (openai-simulator-process.ts unless `scriptName` says otherwise) with `args`. */
export async function startSimulatorProcess(
  args: string[] = [],
  scriptName = 'openai-simulator-process.ts',
): Promise<SimulatorProcess> {
  const script = fileURLToPath(new URL(`./${scriptName}`, import.meta.url));
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', script, ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const baseURL = await new Promise<string>((resolve, reject) => {
    let buffered = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const line = buffered.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve((JSON.parse(line) as { baseURL: string }).baseURL);
    });
    child.once('exit', (code) => reject(new Error(`simulator exited early (${code})`)));
  });
  return {
    baseURL,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.stdin.end();
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  };
}

/**
 * `control` is a second uninstrumented arm on its own copy (openai-overhead.bench.ts): what it "adds" over
 * the baseline is the measurement's own noise and copy bias, shown next to the instrumentations' figures.
 */
export type ArmName = 'baseline' | 'modelwatch' | 'contrib' | 'control';

export interface Arm {
  name: ArmName;
  /** A client of the arm's own `openai-v6` copy (patched by the arm's instrumentation, if any). */
  newClient(baseURL: string): OpenAI;
  /** What the arm's spans carried so far (undefined for the baseline). */
  tally(): SpanTally | undefined;
}

export interface Arms {
  arms: Arm[];
  openaiVersion: string;
  /** Flushes and shuts down both tracer providers. */
  shutdown(): Promise<void>;
}

type OpenAIModule = typeof import('openai-v6');
const requireHere = createRequire(import.meta.url);

/**
 * A copy of `openai-v6` with its own classes and prototypes: the package's CommonJS build, required after
 * dropping its files from require.cache (it has no dependencies, so nothing else is shared).
 */
function freshOpenAIv6(): OpenAIModule {
  const entry = requireHere.resolve('openai-v6');
  const packageDir = entry.slice(0, entry.lastIndexOf('/') + 1);
  for (const key of Object.keys(requireHere.cache)) {
    if (key.startsWith(packageDir)) delete requireHere.cache[key];
  }
  return requireHere('openai-v6') as OpenAIModule;
}

function clientFactory(module: OpenAIModule): (baseURL: string) => OpenAI {
  return (baseURL) => new module.OpenAI({ baseURL, apiKey: 'sk-bench', maxRetries: 0 });
}

/** The arms every benchmark has; `control` is added on request. */
export const ARM_NAMES: readonly ArmName[] = ['baseline', 'modelwatch', 'contrib'];

/**
 * The arms, each with its own `openai-v6` copy, patched once here for the whole run: `ARM_NAMES`, plus
 * `control` when `loadOrder` names it.
 *
 * `loadOrder` is the order the copies are required in. It is not neutral: with 100-chunk streams,
 * whichever instrumented copy was loaded first spent more CPU per call in 10 runs of 10 (ours loaded
 * before contrib: 1.15-1.6× contrib's added CPU; contrib first: 0.49-1.25×), and three UNinstrumented
 * copies differed by up to 25 % of a call's CPU within one run. V8 keeps feedback and optimised code per
 * copy, so one process's copies do not run the same machine code. openai-overhead.bench.ts therefore runs
 * the load orders in separate processes (forks) and pools them.
 */
export function createArms(modelwatch: ModelwatchPackage, loadOrder: readonly ArmName[] = ARM_NAMES): Arms {
  // The context manager a service gets from NodeSDK (or modelwatch's register()): the instrumentations'
  // context.with() is real work, as in production, and the baseline's calls run under it too.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  if (new Set(loadOrder).size !== loadOrder.length || ARM_NAMES.some((name) => !loadOrder.includes(name)))
    throw new Error(`load order must name each of ${ARM_NAMES.join(', ')} once (and control at most once)`);
  const copies = new Map(loadOrder.map((name) => [name, freshOpenAIv6()]));
  const baselineModule = copies.get('baseline')!;
  const oursModule = copies.get('modelwatch')!;
  const contribModule = copies.get('contrib')!;
  const controlModule = copies.get('control');

  const oursExporter = new DroppingExporter();
  const oursProvider = tracerProvider(oursExporter);
  const ours = new modelwatch.OpenAIInstrumentation();
  ours.setTracerProvider(oursProvider);
  ours.manuallyInstrument(oursModule);

  const contribExporter = new DroppingExporter();
  const contribProvider = tracerProvider(contribExporter);
  const contrib = new ContribOpenAIInstrumentation();
  contrib.setTracerProvider(contribProvider);
  // Contrib 0.22 creates its histograms in _updateMetricInstruments(), which the base constructor runs before
  // the subclass fields exist; the fields then reset to undefined and stream calls throw. NodeSDK calls
  // setMeterProvider() after construction, which recreates them: do the same (with the API's no-op provider).
  contrib.setMeterProvider(metrics.getMeterProvider());
  const openaiVersion = (baselineModule.OpenAI as unknown as { VERSION?: string }).VERSION ?? '6';
  contrib.getModuleDefinitions()[0]!.patch?.(contribModule, openaiVersion);

  const arms: Arm[] = [
    { name: 'baseline', newClient: clientFactory(baselineModule), tally: () => undefined },
    { name: 'modelwatch', newClient: clientFactory(oursModule), tally: () => oursExporter.tally },
    { name: 'contrib', newClient: clientFactory(contribModule), tally: () => contribExporter.tally },
  ];
  if (controlModule)
    arms.push({ name: 'control', newClient: clientFactory(controlModule), tally: () => undefined });
  return {
    arms,
    openaiVersion,
    shutdown: async () => {
      await Promise.all([oursProvider.forceFlush(), contribProvider.forceFlush()]);
      await Promise.all([oursProvider.shutdown(), contribProvider.shutdown()]);
    },
  };
}
