export interface ShutdownListener {
  /** Resolves on the first SIGINT/SIGTERM. */
  readonly signalled: Promise<NodeJS.Signals>;
  /** The signal received so far, if any. */
  received(): NodeJS.Signals | undefined;
  /** Stops listening (the default handlers apply again) unless a signal already came. */
  dispose(): void;
}

/**
 * Listens for SIGINT/SIGTERM from now on: long-running commands call it before they start anything, so a
 * signal that arrives while they start (a supervisor stopping a service that is still migrating, a test
 * that signals as soon as the ready line is printed) is a graceful stop, not Node's default of dying on
 * the spot. A second Ctrl-C while draining means "now" and exits 130 at once.
 */
export function listenForShutdown(): ShutdownListener {
  let received: NodeJS.Signals | undefined;
  let resolveSignalled: (signal: NodeJS.Signals) => void = () => undefined;
  const signalled = new Promise<NodeJS.Signals>((resolve) => (resolveSignalled = resolve));
  const stopListening = (): void => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  function onSignal(signal: NodeJS.Signals): void {
    stopListening();
    received = signal;
    process.once('SIGINT', () => process.exit(130));
    resolveSignalled(signal);
  }
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signalled,
    received: () => received,
    dispose: () => {
      if (received === undefined) stopListening();
    },
  };
}
