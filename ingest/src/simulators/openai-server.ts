/**
 * A local server speaking OpenAI's wire format, as the `openai` SDK (v6 and v7) parses it:
 * `POST /v1/chat/completions` (JSON, and SSE `data: {chunk}` … `data: [DONE]` with the final usage chunk
 * when `stream_options.include_usage`), `POST /v1/responses` (JSON, and the Responses event stream
 * `response.created` … `response.completed`), `POST /v1/embeddings`, error bodies
 * `{ error: { message, type, param, code } }` and the `x-request-id`, `x-ratelimit-remaining-*`,
 * `retry-after(-ms)` headers. What each request gets is decided by the scenario's `respond`.
 */
import {
  DEFAULT_INPUT_TOKENS,
  errorTypeForStatus,
  simulatedId,
  splitIntoChunks,
  replyContent,
  type ErrorReply,
  type ReplyContent,
  type Reply,
  type SimulatedErrorType,
  type SimulatedRequest,
  type Simulator,
  type SimulatorOptions,
  type StreamReply,
  type SuccessReply,
} from './reply.js';
import {
  dispatchReply,
  playStreamPieces,
  sendJson,
  sendMalformedJson,
  startSimulatorServer,
  startSse,
  writeSse,
  type Exchange,
  type ReplyWriters,
} from './simulator-http.js';

export function startOpenAISimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  return startSimulatorServer({
    ...options,
    baseURLPath: '/v1',
    routes: {
      'POST /v1/chat/completions': (exchange) => dispatchReply(exchange, chatCompletionWriters),
      'POST /v1/responses': (exchange) => dispatchReply(exchange, responseWriters),
      'POST /v1/embeddings': (exchange) => dispatchReply(exchange, embeddingWriters),
    },
    notFound: (res, method, path) =>
      sendJson(res, 404, baseHeaders({}), {
        error: {
          message: `Invalid URL (${method} ${path})`,
          type: 'invalid_request_error',
          param: null,
          code: null,
        },
      }),
  });
}

/** One endpoint's success shapes; errors, hangs, resets and malformed bodies are the same for all. */
interface Endpoint {
  json(request: SimulatedRequest, reply: SuccessReply): unknown;
  stream(exchange: Exchange, reply: StreamReply): Promise<void>;
}

function writersFor(endpoint: Endpoint): ReplyWriters {
  return {
    // A scenario may script a stream for a non-streaming request; answer in the shape the client asked for.
    streamOnlyWhenAsked: true,
    success({ request, res }, reply) {
      sendJson(res, 200, baseHeaders(reply), endpoint.json(request, reply));
    },
    stream: (exchange, reply) => endpoint.stream(exchange, reply),
    error({ res }, reply) {
      sendJson(
        res,
        reply.status,
        errorHeaders(reply),
        reply.body ?? {
          error: errorObject(reply.errorType ?? errorTypeForStatus(reply.status), reply.message, reply.code),
        },
      );
    },
    malformed({ request, res }, reply) {
      if (request.stream) {
        startSse(res, baseHeaders(reply));
        res.end('data: {"id": "chatcmpl-broken", "choices": [{"delta": {"content": "Hel\n\n');
      } else {
        sendMalformedJson(res, baseHeaders(reply));
      }
    },
  };
}

function baseHeaders(
  reply: Exclude<Reply, { kind: 'hang' } | { kind: 'reset' }> | Record<string, never>,
): Record<string, string> {
  const headers: Record<string, string> = {
    'x-request-id': ('requestId' in reply && reply.requestId) || simulatedId('req'),
    'openai-version': '2020-10-01',
    'openai-processing-ms': '1',
  };
  if ('rateLimit' in reply && reply.rateLimit) {
    if (reply.rateLimit.remainingRequests !== undefined) {
      headers['x-ratelimit-remaining-requests'] = String(reply.rateLimit.remainingRequests);
    }
    if (reply.rateLimit.remainingTokens !== undefined) {
      headers['x-ratelimit-remaining-tokens'] = String(reply.rateLimit.remainingTokens);
    }
  }
  if ('headers' in reply && reply.headers) Object.assign(headers, reply.headers);
  return headers;
}

function errorHeaders(reply: ErrorReply): Record<string, string> {
  const headers = baseHeaders(reply);
  if (reply.retryAfterS !== undefined) headers['retry-after'] = String(reply.retryAfterS);
  if (reply.retryAfterMs !== undefined) headers['retry-after-ms'] = String(reply.retryAfterMs);
  return headers;
}

/** OpenAI's error object for each neutral kind, with the messages and codes the real API uses. */
function errorObject(type: SimulatedErrorType, message?: string, code?: string): Record<string, unknown> {
  const [defaultType, defaultCode, defaultMessage] = OPENAI_ERRORS[type];
  return { message: message ?? defaultMessage, type: defaultType, param: null, code: code ?? defaultCode };
}

const OPENAI_ERRORS: Record<SimulatedErrorType, [type: string, code: string | null, message: string]> = {
  rate_limit: ['requests', 'rate_limit_exceeded', 'Rate limit reached for requests. Please try again later.'],
  overloaded: ['server_error', null, 'The engine is currently overloaded, please try again later.'],
  server: ['server_error', null, 'The server had an error while processing your request. Sorry about that!'],
  unavailable: ['server_error', null, 'The service is temporarily unavailable. Please try again later.'],
  invalid_request: ['invalid_request_error', null, 'Invalid request.'],
  context_length: [
    'invalid_request_error',
    'context_length_exceeded',
    "This model's maximum context length is 128000 tokens. However, your messages resulted in 130412 tokens. Please reduce the length of the messages.",
  ],
  content_filter: [
    'invalid_request_error',
    'content_filter',
    'The response was filtered due to the prompt triggering the content management policy. Please modify your prompt and retry.',
  ],
  auth: ['invalid_request_error', 'invalid_api_key', 'Incorrect API key provided.'],
  permission: [
    'invalid_request_error',
    'unsupported_country_region_territory',
    'Country, region, or territory not supported.',
  ],
  not_found: [
    'invalid_request_error',
    'model_not_found',
    'The model does not exist or you do not have access to it.',
  ],
};

type Content = ReplyContent;

function content(request: SimulatedRequest, reply: SuccessReply | StreamReply): Content {
  return replyContent(request, reply, 'gpt-4o-mini');
}

function field(body: unknown, name: string): unknown {
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined;
}

function choiceCount(request: SimulatedRequest): number {
  const n = field(request.body, 'n');
  return typeof n === 'number' && n >= 1 ? Math.min(Math.floor(n), 16) : 1;
}

const nowS = (): number => Math.floor(Date.now() / 1000);

function chatUsage(c: Content, choices: number): Record<string, unknown> {
  const completion = c.outputTokens * choices;
  return {
    prompt_tokens: c.inputTokens,
    completion_tokens: completion,
    total_tokens: c.inputTokens + completion,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

const chatCompletions: Endpoint = {
  json(request, reply) {
    const c = content(request, reply);
    const n = choiceCount(request);
    const choices = [];
    for (let index = 0; index < n; index++) {
      choices.push({
        index,
        message: { role: 'assistant', content: c.text, refusal: null, annotations: [] },
        logprobs: null,
        finish_reason: reply.finishReason ?? 'stop',
      });
    }
    return {
      id: simulatedId('chatcmpl'),
      object: 'chat.completion',
      created: nowS(),
      model: c.model,
      choices,
      usage: chatUsage(c, n),
      service_tier: 'default',
      system_fingerprint: 'fp_modelwatch',
    };
  },
  async stream({ request, res }, reply) {
    const c = content(request, reply);
    const n = choiceCount(request);
    const includeUsage = field(field(request.body, 'stream_options'), 'include_usage') === true;
    const base = {
      id: simulatedId('chatcmpl'),
      object: 'chat.completion.chunk',
      created: nowS(),
      model: c.model,
      service_tier: 'default',
      system_fingerprint: 'fp_modelwatch',
    };
    const chunk = (choices: unknown[]): Record<string, unknown> =>
      includeUsage ? { ...base, choices, usage: null } : { ...base, choices };
    const choicesWith = (delta: Record<string, unknown>, finish: string | null): unknown[] => {
      const out = [];
      for (let index = 0; index < n; index++)
        out.push({ index, delta, logprobs: null, finish_reason: finish });
      return out;
    };
    startSse(res, baseHeaders(reply));
    writeSse(res, chunk(choicesWith({ role: 'assistant', content: '', refusal: null }, null)));
    const outcome = await playStreamPieces(res, reply, splitIntoChunks(c.text, reply.chunks ?? 4), (piece) =>
      writeSse(res, chunk(choicesWith({ content: piece }, null))),
    );
    if (outcome === 'closed') return;
    if (outcome === 'error') {
      // Mid-stream failures arrive as a data event carrying `error`; the SDK throws it as an APIError.
      writeSse(res, { error: errorObject(reply.errorType ?? 'overloaded') });
      res.end();
      return;
    }
    writeSse(res, chunk(choicesWith({}, reply.finishReason ?? 'stop')));
    if (includeUsage) writeSse(res, { ...base, choices: [], usage: chatUsage(c, n) });
    res.end('data: [DONE]\n\n');
  },
};

function responseObject(
  c: Content,
  id: string,
  status: 'in_progress' | 'completed' | 'incomplete',
  output: unknown[],
  request: SimulatedRequest,
): Record<string, unknown> {
  return {
    id,
    object: 'response',
    created_at: nowS(),
    status,
    background: false,
    error: null,
    incomplete_details: status === 'incomplete' ? { reason: 'max_output_tokens' } : null,
    instructions: null,
    max_output_tokens: field(request.body, 'max_output_tokens') ?? null,
    model: c.model,
    output,
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: true,
    temperature: field(request.body, 'temperature') ?? 1,
    text: { format: { type: 'text' } },
    tool_choice: 'auto',
    tools: [],
    top_p: field(request.body, 'top_p') ?? 1,
    truncation: 'disabled',
    usage:
      status === 'in_progress'
        ? null
        : {
            input_tokens: c.inputTokens,
            input_tokens_details: { cached_tokens: 0 },
            output_tokens: c.outputTokens,
            output_tokens_details: { reasoning_tokens: 0 },
            total_tokens: c.inputTokens + c.outputTokens,
          },
    user: null,
    metadata: {},
  };
}

function messageItem(id: string, text: string, status: 'in_progress' | 'completed'): Record<string, unknown> {
  return {
    id,
    type: 'message',
    status,
    role: 'assistant',
    content: status === 'completed' ? [{ type: 'output_text', text, annotations: [], logprobs: [] }] : [],
  };
}

/** The Responses API reports 'incomplete' (not a finish reason) when output was cut; map 'length' to it. */
const responseStatus = (finishReason: string | undefined): 'completed' | 'incomplete' =>
  finishReason === 'length' || finishReason === 'max_output_tokens' ? 'incomplete' : 'completed';

const responses: Endpoint = {
  json(request, reply) {
    const c = content(request, reply);
    return responseObject(
      c,
      simulatedId('resp'),
      responseStatus(reply.finishReason),
      [messageItem(simulatedId('msg'), c.text, 'completed')],
      request,
    );
  },
  async stream({ request, res }, reply) {
    const c = content(request, reply);
    const id = simulatedId('resp');
    const itemId = simulatedId('msg');
    let sequence = 0;
    const event = (type: string, data: Record<string, unknown>): void =>
      writeSse(res, { type, ...data, sequence_number: sequence++ }, type);
    startSse(res, baseHeaders(reply));
    event('response.created', { response: responseObject(c, id, 'in_progress', [], request) });
    event('response.in_progress', { response: responseObject(c, id, 'in_progress', [], request) });
    event('response.output_item.added', { output_index: 0, item: messageItem(itemId, '', 'in_progress') });
    event('response.content_part.added', {
      item_id: itemId,
      output_index: 0,
      content_index: 0,
      part: { type: 'output_text', text: '', annotations: [], logprobs: [] },
    });
    const outcome = await playStreamPieces(res, reply, splitIntoChunks(c.text, reply.chunks ?? 4), (piece) =>
      event('response.output_text.delta', {
        item_id: itemId,
        output_index: 0,
        content_index: 0,
        delta: piece,
        logprobs: [],
      }),
    );
    if (outcome === 'closed') return;
    if (outcome === 'error') {
      const error = errorObject(reply.errorType ?? 'overloaded');
      event('error', { code: error.code ?? error.type, message: error.message, param: null });
      res.end();
      return;
    }
    event('response.output_text.done', {
      item_id: itemId,
      output_index: 0,
      content_index: 0,
      text: c.text,
      logprobs: [],
    });
    event('response.content_part.done', {
      item_id: itemId,
      output_index: 0,
      content_index: 0,
      part: { type: 'output_text', text: c.text, annotations: [], logprobs: [] },
    });
    const item = messageItem(itemId, c.text, 'completed');
    event('response.output_item.done', { output_index: 0, item });
    const status = responseStatus(reply.finishReason);
    event(status === 'completed' ? 'response.completed' : 'response.incomplete', {
      response: responseObject(c, id, status, [item], request),
    });
    res.end();
  },
};

const EMBEDDING_DIMENSIONS = 8;

const embeddings: Endpoint = {
  json(request, reply) {
    const input = field(request.body, 'input');
    const count = Array.isArray(input) ? input.length : 1;
    // The SDK asks for base64 by default and decodes it into float arrays itself.
    const base64 = field(request.body, 'encoding_format') === 'base64';
    const data = [];
    for (let index = 0; index < count; index++) {
      const vector = new Float32Array(EMBEDDING_DIMENSIONS).map((_, i) => Math.sin(index + i));
      data.push({
        object: 'embedding',
        index,
        embedding: base64 ? Buffer.from(vector.buffer).toString('base64') : Array.from(vector),
      });
    }
    const tokens = reply.inputTokens ?? DEFAULT_INPUT_TOKENS * count;
    return {
      object: 'list',
      data,
      model: reply.model ?? request.model ?? 'text-embedding-3-small',
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    };
  },
  async stream({ request, res }, reply) {
    sendJson(res, 200, baseHeaders(reply), embeddings.json(request, { ...reply, kind: 'success' }));
  },
};

const chatCompletionWriters = writersFor(chatCompletions);
const responseWriters = writersFor(responses);
const embeddingWriters = writersFor(embeddings);
