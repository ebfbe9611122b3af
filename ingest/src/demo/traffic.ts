/**
 * The demo's traffic generator: drives the REAL `openai` and `@anthropic-ai/sdk` clients, instrumented by
 * @modelwatch/instrumentation and exporting OTLP/HTTP to the gateway, against the provider simulators.
 * The scenario's current phase decides each call (plan-call.ts); the plan rides along in a header and the
 * simulators' `respond` turns it into the provider's wire format.
 *
 * Calls are counted by planned outcome and by what the SDK returned, so the demo can check that
 * ClickHouse holds exactly one row per call. SDK retries are off (maxRetries 0): one call = one HTTP
 * request = one span, which is what makes that check exact.
 */
import Anthropic from '@anthropic-ai/sdk';
import * as anthropicModule from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import * as openaiModule from 'openai';
import { AnthropicInstrumentation, OpenAIInstrumentation } from '@modelwatch/instrumentation';
import { startAnthropicSimulator } from '../simulators/anthropic-server.js';
import { startOpenAISimulator } from '../simulators/openai-server.js';
import type { Simulator, SimulatedRequest, Reply } from '../simulators/reply.js';
import { PLAN_HEADER, planCall, replyFor, seededRandom, type CallPlan, type Outcome } from './plan-call.js';
import {
  effectiveStream,
  phaseAt,
  scenarioDurationS,
  type EffectiveStream,
  type Scenario,
  type SimulatedProvider,
} from './scenario.js';
import { createServiceTracing, withService } from './service-tracing.js';

export interface TrafficOptions {
  scenario: Scenario;
  /** Timeline speed-up: phase durations are divided by it; rates stay per wall-clock second. @default 1 */
  speed?: number;
  /** Gateway base URL (OTLP/HTTP), e.g. http://127.0.0.1:4318. */
  otlpEndpoint: string;
  /** Resource attributes on every span (deployment.environment.name, the demo run id). */
  resourceAttributes?: Record<string, string>;
  /** @default 1 */
  seed?: number;
  /**
   * Wall-clock seconds of traffic before the timeline (at the first phase's rates, without overrides):
   * the first seconds of a fresh process (JIT, a broker that just started) are slow, and must not become
   * the report's baseline. These calls are counted and written like any other. @default 0
   */
  warmUpS?: number;
  /** Called about every 250 ms and at the end. */
  onProgress?: (progress: TrafficProgress) => void;
  /** Stops scheduling new calls (Ctrl-C); in-flight calls finish or time out. */
  signal?: AbortSignal;
}

export interface PhaseTiming {
  name: string;
  baseline: boolean;
  startMs: number;
  endMs: number;
}

export interface TrafficProgress {
  elapsedMs: number;
  totalMs: number;
  phase: string | undefined;
  started: number;
  finished: number;
  failed: number;
  inFlight: number;
}

export interface TrafficResult {
  startedAtMs: number;
  endedAtMs: number;
  /** Wall-clock phase windows (epoch ms): the report's baseline and incident windows. */
  phases: PhaseTiming[];
  /** Calls made (each produced exactly one span). */
  calls: number;
  /** Calls whose SDK promise rejected (any error, timeouts included). */
  failedCalls: number;
  /** By planned outcome. */
  byOutcome: Partial<Record<Outcome, number>>;
  /** By `provider model service`. */
  byStream: Record<string, number>;
  /** Calls not made because maxConcurrency calls were already in flight. */
  skipped: number;
}

const TICK_MS = 50;

interface Clients {
  openai: OpenAI;
  anthropic: Anthropic;
}

function planFrom(request: SimulatedRequest): CallPlan | undefined {
  const raw = request.headers[PLAN_HEADER];
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw) as CallPlan;
  } catch {
    return undefined;
  }
}

const respondAs =
  (provider: SimulatedProvider) =>
  (request: SimulatedRequest): Reply => {
    const plan = planFrom(request);
    // Requests without a plan (none expected) get a plain success, like the simulators' default.
    return plan ? replyFor(provider, plan) : request.stream ? { kind: 'stream' } : { kind: 'success' };
  };

async function callOnce(clients: Clients, stream: EffectiveStream, plan: CallPlan): Promise<void> {
  const headers = { [PLAN_HEADER]: JSON.stringify(plan) };
  // A bad request is simulated by the server's 400; the body stays valid so the SDK sends it.
  const messages = [{ role: 'user' as const, content: 'Summarise the incident in one sentence.' }];
  if (stream.provider === 'openai') {
    if (plan.stream) {
      // include_usage: without it OpenAI streams carry no token counts and every streamed answer would
      // look like an empty output to the report's quality signal.
      const response = await clients.openai.chat.completions.create(
        { model: stream.model, messages, stream: true, stream_options: { include_usage: true } },
        { headers },
      );
      for await (const _chunk of response) {
        // Drain the stream: the span ends (and records TTFT and usage) when the iteration completes.
      }
    } else {
      await clients.openai.chat.completions.create({ model: stream.model, messages }, { headers });
    }
    return;
  }
  if (plan.stream) {
    const response = await clients.anthropic.messages.create(
      { model: stream.model, max_tokens: 1024, messages, stream: true },
      { headers },
    );
    for await (const _event of response) {
      // Drained as above.
    }
  } else {
    await clients.anthropic.messages.create({ model: stream.model, max_tokens: 1024, messages }, { headers });
  }
}

export async function runTraffic(options: TrafficOptions): Promise<TrafficResult> {
  const speed = options.speed ?? 1;
  const warmUpS = options.warmUpS ?? 0;
  const scenario: Scenario =
    warmUpS > 0
      ? {
          ...options.scenario,
          phases: [
            { name: 'warm-up', durationS: warmUpS * speed, baseline: false, overrides: [] },
            ...options.scenario.phases,
          ],
        }
      : options.scenario;
  const random = seededRandom(options.seed ?? 1);
  const services = [...new Set(scenario.streams.map((s) => s.service))];
  const tracing = createServiceTracing({
    services,
    tracesUrl: `${options.otlpEndpoint.replace(/\/+$/, '')}/v1/traces`,
    resourceAttributes: options.resourceAttributes ?? {},
  });
  const openaiInstrumentation = new OpenAIInstrumentation();
  const anthropicInstrumentation = new AnthropicInstrumentation();
  const simulators: Simulator[] = [];
  try {
    for (const instrumentation of [openaiInstrumentation, anthropicInstrumentation]) {
      instrumentation.setTracerProvider(tracing.router);
      instrumentation.enable();
    }
    // Patched by hand: the SDKs were imported before any instrumentation hook could see them.
    openaiInstrumentation.manuallyInstrument(openaiModule);
    anthropicInstrumentation.manuallyInstrument(anthropicModule);

    const [openaiSim, anthropicSim] = await Promise.all([
      startOpenAISimulator({ respond: respondAs('openai') }),
      startAnthropicSimulator({ respond: respondAs('anthropic') }),
    ]);
    simulators.push(openaiSim, anthropicSim);
    const clientOptions = { apiKey: 'demo-key-not-secret', maxRetries: 0, timeout: scenario.clientTimeoutMs };
    const clients: Clients = {
      openai: new OpenAI({ ...clientOptions, baseURL: openaiSim.baseURL }),
      anthropic: new Anthropic({ ...clientOptions, baseURL: anthropicSim.baseURL }),
    };

    const totalMs = (scenarioDurationS(scenario) * 1000) / speed;
    const startedAtMs = Date.now();
    const phases: PhaseTiming[] = [];
    let phaseStartMs = startedAtMs;
    for (const phase of scenario.phases) {
      const endMs = phaseStartMs + (phase.durationS * 1000) / speed;
      phases.push({ name: phase.name, baseline: phase.baseline, startMs: phaseStartMs, endMs });
      phaseStartMs = endMs;
    }

    const result: TrafficResult = {
      startedAtMs,
      endedAtMs: startedAtMs,
      phases,
      calls: 0,
      failedCalls: 0,
      byOutcome: {},
      byStream: {},
      skipped: 0,
    };
    const inFlight = new Set<Promise<void>>();
    let finished = 0;
    const due = new Map<number, number>(); // stream index -> fractional calls owed
    let lastTickMs = startedAtMs;
    let lastProgressMs = 0;
    let currentPhase: string | undefined;

    const report = (nowMs: number): void =>
      options.onProgress?.({
        elapsedMs: Math.min(nowMs - startedAtMs, totalMs),
        totalMs,
        phase: currentPhase,
        started: result.calls,
        finished,
        failed: result.failedCalls,
        inFlight: inFlight.size,
      });

    while (!options.signal?.aborted) {
      const nowMs = Date.now();
      const elapsedS = ((nowMs - startedAtMs) / 1000) * speed;
      const at = phaseAt(scenario, elapsedS);
      if (at === undefined) break;
      currentPhase = at.phase.name;
      const dtS = (nowMs - lastTickMs) / 1000;
      lastTickMs = nowMs;
      scenario.streams.forEach((stream, index) => {
        const effective = effectiveStream(stream, at.phase);
        let owed = (due.get(index) ?? 0) + effective.ratePerS * dtS;
        for (; owed >= 1; owed -= 1) {
          if (inFlight.size >= scenario.maxConcurrency) {
            result.skipped += 1;
            continue;
          }
          const plan = planCall(effective, scenario.clientTimeoutMs, random);
          result.calls += 1;
          result.byOutcome[plan.outcome] = (result.byOutcome[plan.outcome] ?? 0) + 1;
          const key = `${stream.provider} ${stream.model} ${stream.service}`;
          result.byStream[key] = (result.byStream[key] ?? 0) + 1;
          const call = withService(stream.service, () => callOnce(clients, effective, plan))
            .catch(() => {
              result.failedCalls += 1;
            })
            .finally(() => {
              finished += 1;
              inFlight.delete(call);
            });
          inFlight.add(call);
        }
        due.set(index, owed);
      });
      if (nowMs - lastProgressMs >= 250) {
        lastProgressMs = nowMs;
        report(nowMs);
      }
      await new Promise((resolve) => setTimeout(resolve, TICK_MS));
    }
    await Promise.all(inFlight);
    result.endedAtMs = Date.now();
    report(result.endedAtMs);
    // Every span must reach the gateway before the caller counts rows.
    await tracing.forceFlush();
    return result;
  } finally {
    openaiInstrumentation.manuallyUninstrument(openaiModule);
    anthropicInstrumentation.manuallyUninstrument(anthropicModule);
    openaiInstrumentation.disable();
    anthropicInstrumentation.disable();
    await Promise.all(simulators.map((s) => s.close()));
    await tracing.shutdown();
  }
}
