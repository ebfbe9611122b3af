import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
// The readiness probe is the one kafkajs use outside gateway/ and consumer/: "ready" has to mean "answers
// the same client the pipeline uses", not just "port open".
import { Kafka, logLevel } from 'kafkajs';

export interface WaitForBrokerOptions {
  host: string;
  port: number;
  /** Epoch ms after which waiting gives up. */
  deadline: number;
  /** Aborted when the broker process exits, so a crash is reported at once rather than at the deadline. */
  signal: AbortSignal;
}

const POLL_INTERVAL_MS = 250;

function portAcceptsConnections(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (open: boolean): void => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** One admin round trip: the broker is registered, unfenced and has an active controller. */
async function clusterIsReady(host: string, port: number): Promise<boolean> {
  const admin = new Kafka({
    clientId: 'modelwatch-local-broker-probe',
    brokers: [`${host}:${port}`],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1_000,
    requestTimeout: 5_000,
    retry: { retries: 0 },
  }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0 && cluster.controller !== null && cluster.controller >= 0;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/**
 * Resolves `true` once the broker answers `describeCluster()`, `false` if the deadline passes or the
 * signal aborts first. The cheap TCP check comes first so a JVM that is still loading costs no client setup.
 */
export async function waitForBroker({
  host,
  port,
  deadline,
  signal,
}: WaitForBrokerOptions): Promise<boolean> {
  while (!signal.aborted && Date.now() < deadline) {
    if ((await portAcceptsConnections(host, port)) && (await clusterIsReady(host, port))) return true;
    await sleep(POLL_INTERVAL_MS);
  }
  return false;
}
