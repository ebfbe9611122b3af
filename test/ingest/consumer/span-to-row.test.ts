import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { spanToRows } from '../../../ingest/src/consumer/span-to-row.js';
import { decodeTraceRequest } from '../../../ingest/src/otlp/decode.js';
import type { Attributes, DecodedSpan, DecodedTraceRequest } from '../../../ingest/src/otlp/otlp-types.js';
import { makeSpans } from '../otlp/otel-sdk-spans.js';

const START = '1735787045123456789';
const END = '1735787046373456789'; // 1.25 s later

let nextSpan = 1;
function span(attributes: Attributes, overrides: Partial<DecodedSpan> = {}): DecodedSpan {
  const spanId = (nextSpan++).toString(16).padStart(16, '0');
  return {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId,
    parentSpanId: '',
    traceState: '',
    flags: 1,
    name: 'chat',
    kind: 3,
    startTimeUnixNano: START,
    endTimeUnixNano: END,
    durationNs: 1_250_000_000,
    attributes,
    events: [],
    links: [],
    status: { code: 0, message: '' },
    ...overrides,
  };
}

function request(
  spans: DecodedSpan[],
  resource: Attributes = { 'service.name': 'checkout', 'deployment.environment.name': 'prod' },
  scope = { name: 'some-scope', version: '1.2.3' },
): DecodedTraceRequest {
  return {
    resourceSpans: [
      {
        resource: { attributes: resource },
        schemaUrl: '',
        scopeSpans: [{ scope: { ...scope, attributes: {} }, schemaUrl: '', spans }],
      },
    ],
    spanCount: spans.length,
  };
}

function onlyLlmRow(decoded: DecodedTraceRequest) {
  const { traces, llmCalls } = spanToRows(decoded);
  assert.equal(traces.length, decoded.spanCount);
  assert.equal(llmCalls.length, 1);
  return llmCalls[0]!;
}

describe('spanToRows: otel_traces rows (Collector ClickHouse exporter format)', () => {
  it('writes every column like the exporter: hex ids, kind/status strings, ns duration, string maps, nested events/links', () => {
    const s = span(
      { 'http.route': '/chat', 'retry.count': 2, ratio: 0.5, ok: true, tags: ['a', 'b'] },
      {
        name: 'POST /chat',
        kind: 2,
        parentSpanId: 'b7ad6b7169203331',
        traceState: 'vendor=x',
        status: { code: 2, message: 'boom' },
        events: [
          {
            timeUnixNano: '1735787045200000000',
            name: 'exception',
            attributes: { 'exception.type': 'Error', 'exception.message': 'boom' },
          },
        ],
        links: [
          {
            traceId: '11111111111111111111111111111111',
            spanId: '2222222222222222',
            traceState: '',
            attributes: { n: 1 },
          },
        ],
      },
    );
    const { traces, llmCalls } = spanToRows(request([s], { 'service.name': 'api', 'host.cores': 4 }));
    assert.equal(llmCalls.length, 0, 'not an LLM span');
    assert.deepEqual(traces[0], {
      Timestamp: START,
      TraceId: '0af7651916cd43dd8448eb211c80319c',
      SpanId: s.spanId,
      ParentSpanId: 'b7ad6b7169203331',
      TraceState: 'vendor=x',
      SpanName: 'POST /chat',
      SpanKind: 'Server',
      ServiceName: 'api',
      ResourceAttributes: { 'service.name': 'api', 'host.cores': '4' },
      ScopeName: 'some-scope',
      ScopeVersion: '1.2.3',
      SpanAttributes: {
        'http.route': '/chat',
        'retry.count': '2',
        ratio: '0.5',
        ok: 'true',
        tags: '["a","b"]',
      },
      Duration: '1250000000',
      StatusCode: 'Error',
      StatusMessage: 'boom',
      'Events.Timestamp': ['1735787045200000000'],
      'Events.Name': ['exception'],
      'Events.Attributes': [{ 'exception.type': 'Error', 'exception.message': 'boom' }],
      'Links.TraceId': ['11111111111111111111111111111111'],
      'Links.SpanId': ['2222222222222222'],
      'Links.TraceState': [''],
      'Links.Attributes': [{ n: '1' }],
    });
  });

  it('names every kind and status like the Collector', () => {
    const kinds = [0, 1, 2, 3, 4, 5] as const;
    const { traces } = spanToRows(
      request(
        kinds.map((kind) => span({}, { kind, status: { code: (kind % 3) as 0 | 1 | 2, message: '' } })),
      ),
    );
    assert.deepEqual(
      traces.map((t) => t.SpanKind),
      ['Unspecified', 'Internal', 'Server', 'Client', 'Producer', 'Consumer'],
    );
    assert.deepEqual(
      traces.map((t) => t.StatusCode),
      ['Unset', 'Ok', 'Error', 'Unset', 'Ok', 'Error'],
    );
  });
});

describe('spanToRows: llm_calls rows', () => {
  it('takes modelwatch.* attributes from our instrumentation as they are', () => {
    const row = onlyLlmRow(
      request(
        [
          span(
            {
              'gen_ai.operation.name': 'chat',
              'gen_ai.provider.name': 'anthropic',
              'gen_ai.request.model': 'claude-opus-4-7',
              'gen_ai.response.model': 'claude-opus-4-7',
              'modelwatch.model.family': 'claude-opus',
              'modelwatch.model.version': '4.7',
              'modelwatch.model.snapshot': '',
              'modelwatch.failure.class': 'overloaded',
              'modelwatch.failure.origin': 'provider',
              'error.type': 'overloaded_error',
              'http.response.status_code': 529,
              'modelwatch.time_to_first_token_ms': 812.5,
              'modelwatch.stream': true,
              'modelwatch.retry.count': 2,
              'modelwatch.provider.request_id': 'req_123',
              'server.address': 'api.anthropic.com',
              'gen_ai.usage.input_tokens': 1200,
              'gen_ai.usage.output_tokens': 0,
              'gen_ai.usage.cache_read.input_tokens': 1000,
              'gen_ai.usage.cache_creation.input_tokens': 150,
              'gen_ai.usage.reasoning.output_tokens': 0,
            },
            { status: { code: 2, message: 'Overloaded' } },
          ),
        ],
        { 'service.name': 'checkout', 'deployment.environment.name': 'prod' },
        { name: '@modelwatch/instrumentation', version: '0.1.0' },
      ),
    );
    assert.deepEqual(row, {
      Timestamp: START,
      TraceId: '0af7651916cd43dd8448eb211c80319c',
      SpanId: row.SpanId,
      ServiceName: 'checkout',
      Environment: 'prod',
      Provider: 'anthropic',
      Operation: 'chat',
      RequestModel: 'claude-opus-4-7',
      ResponseModel: 'claude-opus-4-7',
      ModelFamily: 'claude-opus',
      ModelVersion: '4.7',
      ModelSnapshot: '',
      StatusCode: 'Error',
      IsFailure: 1,
      FailureClass: 'overloaded',
      FailureOrigin: 'provider',
      ErrorType: 'overloaded_error',
      HttpStatus: 529,
      DurationMs: 1250,
      TimeToFirstTokenMs: 812.5,
      InputTokens: 1200,
      OutputTokens: 0,
      CacheReadInputTokens: 1000,
      CacheWriteInputTokens: 150,
      ReasoningOutputTokens: 0,
      FinishReasons: [],
      Stream: 1,
      RetryCount: 2,
      ProviderRequestId: 'req_123',
      ServerAddress: 'api.anthropic.com',
      ScopeName: '@modelwatch/instrumentation',
    });
  });

  it('normalises deprecated conventions: gen_ai.system, prompt/completion tokens, deployment.environment, TTFT in seconds', () => {
    const row = onlyLlmRow(
      request(
        [
          span({
            'gen_ai.system': 'az.ai.openai',
            'gen_ai.operation.name': 'chat',
            'gen_ai.request.model': 'gpt-4-0613',
            'gen_ai.response.model': 'gpt-4', // Azure answering less specifically than the request
            'gen_ai.usage.prompt_tokens': 50,
            'gen_ai.usage.completion_tokens': '7',
            'gen_ai.response.finish_reasons': ['stop'],
            'gen_ai.response.time_to_first_chunk': 0.35,
            'gen_ai.request.stream': true,
          }),
        ],
        { 'service.name': 'legacy', 'deployment.environment': 'staging' },
      ),
    );
    assert.equal(row.Provider, 'azure.ai.openai');
    assert.equal(row.Environment, 'staging');
    assert.deepEqual([row.RequestModel, row.ResponseModel], ['gpt-4-0613', 'gpt-4']);
    assert.deepEqual(
      [row.ModelFamily, row.ModelVersion, row.ModelSnapshot],
      ['gpt-4', '4', '0613'],
      'the more specific request model wins',
    );
    assert.deepEqual([row.InputTokens, row.OutputTokens], [50, 7]);
    assert.deepEqual(row.FinishReasons, ['stop']);
    assert.equal(row.TimeToFirstTokenMs, 350);
    assert.equal(row.Stream, 1);
    assert.deepEqual(
      [row.IsFailure, row.FailureClass, row.FailureOrigin, row.StatusCode],
      [0, '', '', 'Unset'],
    );
  });

  it('parses model ids when no modelwatch.* attributes exist, preferring the response model', () => {
    const row = onlyLlmRow(
      request([
        span({
          'gen_ai.provider.name': 'openai',
          'gen_ai.request.model': 'gpt-4o',
          'gen_ai.response.model': 'gpt-4o-2024-08-06',
        }),
      ]),
    );
    assert.deepEqual([row.ModelFamily, row.ModelVersion, row.ModelSnapshot], ['gpt-4o', '4o', '2024-08-06']);
    assert.equal(row.Operation, '');
  });

  it('keeps unknown model ids whole as the family', () => {
    const row = onlyLlmRow(
      request([span({ 'gen_ai.provider.name': 'ollama', 'gen_ai.request.model': 'my-local-model-xyz' })]),
    );
    assert.deepEqual([row.ModelFamily, row.ModelVersion, row.ModelSnapshot], ['my-local-model-xyz', '', '']);
  });

  it('reads OpenLLMetry-style llm.* attributes', () => {
    const row = onlyLlmRow(
      request([
        span({
          'gen_ai.system': 'OpenAI',
          'llm.request.type': 'completion',
          'llm.request.model': 'gpt-3.5-turbo-instruct',
          'llm.usage.prompt_tokens': 11,
          'llm.usage.completion_tokens': 3,
          'gen_ai.response.finish_reasons': '["length"]',
        }),
      ]),
    );
    assert.deepEqual(
      [row.Provider, row.Operation, row.RequestModel],
      ['openai', 'text_completion', 'gpt-3.5-turbo-instruct'],
    );
    assert.deepEqual([row.InputTokens, row.OutputTokens], [11, 3]);
    assert.deepEqual(row.FinishReasons, ['length']);
  });

  it('leaves non-LLM spans and GenAI spans without a model (tools, agents) as trace rows only', () => {
    const { traces, llmCalls } = spanToRows(
      request([
        span({ 'http.request.method': 'GET' }),
        span({ 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'search' }),
        span({ 'gen_ai.request.model': 'gpt-4o' }), // a model but neither provider nor operation
      ]),
    );
    assert.equal(traces.length, 3);
    assert.equal(llmCalls.length, 0);
  });

  it('infers failure class and origin from http status, error.type and messages when modelwatch.failure.* is absent', () => {
    const llm = {
      'gen_ai.provider.name': 'openai',
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'gpt-4o',
    };
    const error = (message = '') => ({ code: 2 as const, message });
    const cases: Array<[Attributes, DecodedSpan['status'], string, string]> = [
      [{ 'http.response.status_code': 429 }, error(), 'rate_limited', 'provider'],
      [{ 'http.response.status_code': 503 }, error(), 'overloaded', 'provider'],
      [
        { 'http.response.status_code': 500, 'error.type': 'InternalServerError' },
        error(),
        'server_error',
        'provider',
      ],
      [{ 'http.response.status_code': 401 }, error(), 'auth', 'client'],
      [
        { 'http.response.status_code': 400 },
        error("This model's maximum context length is 128000 tokens"),
        'context_length',
        'client',
      ],
      [{ 'error.type': 'APIConnectionTimeoutError' }, error(), 'timeout', 'network'],
      [{ 'error.type': 'ECONNRESET' }, error(), 'connection', 'network'],
      [{ 'error.type': 'ThrottlingException' }, error(), 'rate_limited', 'provider'],
      [{ 'error.type': '429' }, error(), 'rate_limited', 'provider'],
      [{ 'http.response.status_code': 404 }, { code: 0, message: '' }, 'bad_request', 'client'], // status unset, HTTP says failed
      [{}, error('something odd'), 'unknown', 'client'],
    ];
    for (const [attributes, status, failureClass, failureOrigin] of cases) {
      const row = onlyLlmRow(request([span({ ...llm, ...attributes }, { status })]));
      assert.deepEqual(
        [row.IsFailure, row.FailureClass, row.FailureOrigin],
        [1, failureClass, failureOrigin],
        `for ${JSON.stringify(attributes)} ${status.message}`,
      );
    }
  });

  it('takes error.type from the exception event when the attribute is missing', () => {
    const row = onlyLlmRow(
      request([
        span(
          { 'gen_ai.provider.name': 'anthropic', 'gen_ai.request.model': 'claude-3-5-sonnet-20241022' },
          {
            status: { code: 2, message: '' },
            events: [
              {
                timeUnixNano: START,
                name: 'exception',
                attributes: { 'exception.type': 'RateLimitError', 'exception.message': '429 rate limit' },
              },
            ],
          },
        ),
      ]),
    );
    assert.deepEqual(
      [row.ErrorType, row.FailureClass, row.FailureOrigin],
      ['RateLimitError', 'rate_limited', 'provider'],
    );
    assert.deepEqual(
      [row.ModelFamily, row.ModelVersion, row.ModelSnapshot],
      ['claude-sonnet', '3.5', '20241022'],
    );
  });

  it('turns real OTel SDK spans, through protobuf, into rows', async () => {
    const { proto } = await makeSpans(4);
    const { traces, llmCalls } = spanToRows(decodeTraceRequest(proto, 'otlp_proto'));
    assert.equal(traces.length, 4);
    assert.equal(llmCalls.length, 3, 'the root span is not an LLM call');
    for (const row of llmCalls) {
      assert.deepEqual(
        [
          row.ServiceName,
          row.Environment,
          row.Provider,
          row.ModelFamily,
          row.ModelVersion,
          row.ModelSnapshot,
        ],
        ['checkout', 'test', 'openai', 'gpt-4o', '4o', '2024-08-06'],
      );
      assert.equal(row.DurationMs, 250);
      assert.equal(row.OutputTokens, 20);
      assert.equal(row.IsFailure, row.StatusCode === 'Error' ? 1 : 0);
    }
  });
});
