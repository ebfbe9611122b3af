/**
 * Waits `us` microseconds, for the simulators that play a provider taking time to answer: a timer for all but
 * the last millisecond, then event-loop turns until the time is up. A timer alone fires up to ~1 ms late
 * (libuv counts whole milliseconds), noise as large as what the benchmarks measure; the spin costs the
 * simulator's CPU, never the client's (the simulators run in their own process).
 */
export async function waitPrecisely(us: number): Promise<void> {
  const until = performance.now() + us / 1000;
  if (us > 1500) await new Promise((resolve) => setTimeout(resolve, Math.floor(us / 1000) - 1));
  while (performance.now() < until) await new Promise((resolve) => setImmediate(resolve));
}
