/**
 * A minimal OpenAI chat-completions server for openai-call-split.bench.ts, in its own process. For each
 * request carrying `x-bench-seq` it notes two `process.hrtime.bigint()` readings, which share one monotonic
 * clock with the client process on the same machine: when the request's headers arrived, and when the answer
 * was handed to the socket. `GET /times` returns them (and forgets them). `x-bench-delay-us` makes it wait
 * that long before answering, to ~10 µs; `x-stream: 1` answers with a 4-chunk SSE stream (role chunk, four
 * content chunks, finish chunk, usage chunk). Prints `{"baseURL": ...}` when listening; exits when stdin closes.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitPrecisely } from './wait-precisely.js';

const MODEL = 'gpt-4o-mini-2024-07-18';
const completion = JSON.stringify({
  id: 'chatcmpl-split',
  object: 'chat.completion',
  created: 1,
  model: MODEL,
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: 'hello there' },
      finish_reason: 'stop',
      logprobs: null,
    },
  ],
  usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
});
const event = (choices: unknown[], extra: object = {}): string =>
  `data: ${JSON.stringify({ id: 'chatcmpl-split', object: 'chat.completion.chunk', created: 1, model: MODEL, choices, ...extra })}\n\n`;
const stream = [
  event([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]),
  ...[0, 1, 2, 3].map((i) => event([{ index: 0, delta: { content: `w${i} ` }, finish_reason: null }])),
  event([{ index: 0, delta: {}, finish_reason: 'stop' }]),
  event([], { usage: { prompt_tokens: 5, completion_tokens: 4, total_tokens: 9 } }),
  'data: [DONE]\n\n',
].join('');

const times = new Map<string, [arrived: string, answered: string]>();
const server = createServer((req, res) => {
  if (req.url === '/times') {
    res.end(JSON.stringify([...times]));
    times.clear();
    return;
  }
  const arrived = process.hrtime.bigint();
  req.resume();
  req.on('end', () => {
    void (async () => {
      await waitPrecisely(Number(req.headers['x-bench-delay-us'] ?? 0));
      const streamed = req.headers['x-stream'] === '1';
      res.writeHead(200, {
        'content-type': streamed ? 'text/event-stream' : 'application/json',
        'x-request-id': 'req_split',
        'x-ratelimit-remaining-requests': '99',
        'x-ratelimit-remaining-tokens': '9999',
      });
      const answered = process.hrtime.bigint();
      res.end(streamed ? stream : completion);
      const seq = req.headers['x-bench-seq'];
      if (typeof seq === 'string') times.set(seq, [String(arrived), String(answered)]);
    })();
  });
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ baseURL: `http://127.0.0.1:${port}/v1` })}\n`);
});
process.stdin.resume();
process.stdin.on('end', () => server.close(() => process.exit(0)));
