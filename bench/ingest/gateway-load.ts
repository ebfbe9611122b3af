/**
 * The two ways the ingest benchmark drives the gateway over OTLP/HTTP:
 *   saturateGateway — N clients in closed loops, each posting its next request as soon as the last one was
 *                     answered: the gateway's maximum throughput;
 *   paceGateway     — an open-loop schedule at a constant span rate (each request is due when the spans
 *                     before it are due, whether or not earlier ones were answered), so a slow answer does
 *                     not quietly lower the offered rate.
 * Both replace a request with the next probe every `probeEveryMs` and report each answered probe's ack.
 */

export interface OtlpBody {
  body: Uint8Array;
  spans: number;
}

export interface GatewayLoad {
  /** The gateway's base URL. */
  url: string;
  seconds: number;
  /** Request bodies, used round-robin. */
  bodies: readonly OtlpBody[];
  /** Probe requests (each a service of its own), used in order, one per `probeEveryMs`, until they run out. */
  probes: readonly OtlpBody[];
  probeEveryMs: number;
  /** Called once a probe was answered 200, with Date.now() at that moment. */
  onProbeAck(probe: number, ackEpochMs: number): void;
}

export interface GatewayLoadResult {
  /** Requests answered 200, and their spans (probes included). */
  requests: number;
  spans: number;
  /** Requests answered with anything but 200, or not answered. */
  failures: number;
  /** From the first request to the last answer. */
  seconds: number;
  /** Per answered request, ms from sending to the answer. */
  latencyMs: number[];
}

export interface PacedLoadResult extends GatewayLoadResult {
  /** Largest delay between a request's due time and its sending (in-flight cap reached, or a busy loop). */
  maxLateMs: number;
}

/** ok is false for any answer but 200, and for a request that got no answer (counted as a failure). */
async function post(url: string, message: OtlpBody): Promise<{ ok: boolean; latencyMs: number }> {
  const sentMs = performance.now();
  try {
    const response = await fetch(`${url}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: message.body,
    });
    await response.arrayBuffer();
    return { ok: response.status === 200, latencyMs: performance.now() - sentMs };
  } catch {
    return { ok: false, latencyMs: performance.now() - sentMs };
  }
}

/** `clients` concurrent closed-loop senders for `seconds`. */
export async function saturateGateway(load: GatewayLoad, clients: number): Promise<GatewayLoadResult> {
  const result: GatewayLoadResult = { requests: 0, spans: 0, failures: 0, seconds: 0, latencyMs: [] };
  let probeIndex = 0;
  let lastProbeMs = 0;
  const startMs = performance.now();
  const deadline = startMs + load.seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async (_, w) => {
      for (let i = w; performance.now() < deadline; i += clients) {
        const isProbe =
          performance.now() - lastProbeMs > load.probeEveryMs && probeIndex < load.probes.length;
        const probe = isProbe ? probeIndex++ : -1;
        if (isProbe) lastProbeMs = performance.now();
        const message = (isProbe ? load.probes[probe] : load.bodies[i % load.bodies.length]) as OtlpBody;
        const { ok, latencyMs } = await post(load.url, message);
        if (!ok) {
          result.failures++;
          continue;
        }
        result.requests++;
        result.spans += message.spans;
        result.latencyMs.push(latencyMs);
        if (isProbe) load.onProbeAck(probe, Date.now());
      }
    }),
  );
  result.seconds = (performance.now() - startMs) / 1000;
  return result;
}

/** Requests at `spansPerSecond` for `seconds`, at most `maxInFlight` unanswered at once. */
export async function paceGateway(
  load: GatewayLoad,
  spansPerSecond: number,
  maxInFlight: number,
): Promise<PacedLoadResult> {
  const result: PacedLoadResult = {
    requests: 0,
    spans: 0,
    failures: 0,
    seconds: 0,
    latencyMs: [],
    maxLateMs: 0,
  };
  const inFlight = new Set<Promise<void>>();
  let scheduledSpans = 0;
  let probeIndex = 0;
  let lastProbeDueMs = Number.NEGATIVE_INFINITY;
  const startMs = performance.now();
  const endMs = startMs + load.seconds * 1000;
  for (let i = 0; ; i++) {
    const dueMs = startMs + (scheduledSpans / spansPerSecond) * 1000;
    if (dueMs >= endMs) break;
    const waitMs = dueMs - performance.now();
    if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
    while (inFlight.size >= maxInFlight) await Promise.race(inFlight);
    result.maxLateMs = Math.max(result.maxLateMs, performance.now() - dueMs);

    const isProbe = dueMs - lastProbeDueMs >= load.probeEveryMs && probeIndex < load.probes.length;
    const probe = isProbe ? probeIndex++ : -1;
    if (isProbe) lastProbeDueMs = dueMs;
    const message = (isProbe ? load.probes[probe] : load.bodies[i % load.bodies.length]) as OtlpBody;
    scheduledSpans += message.spans;
    const request: Promise<void> = post(load.url, message).then(({ ok, latencyMs }) => {
      inFlight.delete(request);
      if (!ok) {
        result.failures++;
        return;
      }
      result.requests++;
      result.spans += message.spans;
      result.latencyMs.push(latencyMs);
      if (isProbe) load.onProbeAck(probe, Date.now());
    });
    inFlight.add(request);
  }
  await Promise.all(inFlight);
  result.seconds = (performance.now() - startMs) / 1000;
  return result;
}
