/**
 * `node --import @modelwatch/instrumentation/register app.js`: traces LLM calls with no code change.
 *
 * ESM modules are bound at link time, so patching `openai` after the app imported it is impossible; the
 * loader hook from @opentelemetry/instrumentation (import-in-the-middle) must be registered before the
 * app's first import. `--import` runs this file first, so the order is right. CommonJS apps are covered by
 * require-in-the-middle, which the instrumentations install themselves.
 *
 * Configuration comes from the environment only (OTEL_SERVICE_NAME, OTEL_EXPORTER_OTLP_ENDPOINT,
 * OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT, …; see README).
 */
import { register as registerLoaderHook } from 'node:module';
import { diag } from '@opentelemetry/api';
import { register } from './register.js';

try {
  registerLoaderHook('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
} catch (error) {
  // Node < 20.6 has no module.register; CommonJS patching still works.
  diag.warn(
    'modelwatch: could not register the ESM loader hook; ESM imports of LLM SDKs will not be traced',
    error,
  );
}

const handle = register();

let shuttingDown = false;
async function flushAndStop(): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  await handle.shutdown();
}

// beforeExit: the event loop drained normally; flush the last batch (async work is allowed here).
process.once('beforeExit', () => void flushAndStop());
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void flushAndStop().finally(() => {
      // Listening to a signal disables Node's default exit; restore it unless the app handles the signal.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  });
}
