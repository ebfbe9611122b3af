/**
 * The OpenAI simulator as its own process for the overhead benchmarks, so the server's CPU does not count
 * against the client being measured. Prints `{"baseURL": ...}` when listening; exits when stdin closes.
 *
 * A streamed completion has `x-bench-chunks` content chunks (request header; default 4), each carrying two
 * words, plus the role chunk, the finish chunk and the usage chunk (when `stream_options.include_usage`).
 * `x-bench-delay-us` makes the provider take that long before it answers (the JSON reply, or a stream's first
 * chunk), measured to ~10 µs (see waitPrecisely), as a real provider takes time to answer.
 */
import { startOpenAISimulator } from '../../ingest/src/simulators/openai-server.js';
import { waitPrecisely } from './wait-precisely.js';

const model = 'gpt-4o-mini-2024-07-18';
const texts = new Map<number, string>();
/** A reply text of exactly `chunks` two-word pieces, so the simulator's split yields `chunks` chunks. */
function textFor(chunks: number): string {
  let text = texts.get(chunks);
  if (text === undefined) {
    text = Array.from({ length: chunks }, (_, i) => `w${String(i % 100).padStart(2, '0')} x`).join(' ') + ' ';
    texts.set(chunks, text);
  }
  return text;
}

const sim = await startOpenAISimulator({
  respond: async (request) => {
    const delayUs = Number(request.headers['x-bench-delay-us'] ?? 0);
    if (delayUs > 0) await waitPrecisely(delayUs);
    if (!request.stream) return { kind: 'success', model };
    const chunks = Math.max(1, Math.min(1000, Number(request.headers['x-bench-chunks'] ?? 4) || 4));
    return { kind: 'stream', chunks, model, text: textFor(chunks) };
  },
});
process.stdout.write(`${JSON.stringify({ baseURL: sim.baseURL })}\n`);
process.stdin.resume();
process.stdin.on('end', () => void sim.close().then(() => process.exit(0)));
