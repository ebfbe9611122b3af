/**
 * The OpenAI simulator as its own process for the overhead benchmark, so the server's CPU does not count
 * against the client being measured. Prints `{"baseURL": ...}` when listening; exits when stdin closes.
 */
import { startOpenAISimulator } from '../../ingest/src/simulators/openai-server.js';

const sim = await startOpenAISimulator({
  respond: (request) => (request.stream ? { kind: 'stream', chunks: 4, model: 'gpt-4o-mini-2024-07-18' } : { kind: 'success', model: 'gpt-4o-mini-2024-07-18' }),
});
process.stdout.write(`${JSON.stringify({ baseURL: sim.baseURL })}\n`);
process.stdin.resume();
process.stdin.on('end', () => void sim.close().then(() => process.exit(0)));
