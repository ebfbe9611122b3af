/**
 * One failure taxonomy for every SDK, so a dashboard can tell "the provider is down / throttling us" from
 * "our request is wrong" from "our network is flaky". Duck-typed: no SDK is imported, so this works for
 * every major of openai, @anthropic-ai/sdk, @google/genai, the AWS SDK v3, undici/fetch and Node sockets.
 *
 * Precedence (first match wins):
 *  1. cancellation by the caller (`APIUserAbortError`, `AbortError`, gRPC-style CANCELLED) → cancelled/client;
 *  2. the provider's error body, because it is more precise than the status: content filter, context
 *     length, then overloaded (Anthropic reports `overloaded_error` even under a 500);
 *  3. named codes: AWS exception names, Google `error.status`, Node/undici socket codes (also in `cause`);
 *  4. the HTTP status: 429 rate_limited; 529 and 503 overloaded (503 is what Gemini, Bedrock and Azure send
 *     when capacity is short, a provider capacity signal rather than a bug); 504/408 timeout; other 5xx
 *     server_error; 401/403 auth; 413 context_length (the request body was too large for the model
 *     endpoint); other 4xx bad_request;
 *  5. no HTTP status on the error, but the provider's error type in its body: in-band stream errors (OpenAI
 *     `data: {"error":{"type":"server_error"}}`, Anthropic `event: error` with `api_error`, a Responses
 *     `error` event or `response.failed` with `code: server_error`) are mapped by that type;
 *  6. a JSON parse error (`SyntaxError`) when the caller says (`context.responseStatus`) the response was a
 *     2xx: the provider sent a malformed body → server_error/provider. Without that context a SyntaxError
 *     may be our own code's and stays unknown/client (which keeps `classifyFailure(error)` pure);
 *  7. SDK class names (`RateLimitError`, `APIConnectionTimeoutError`, …);
 *  8. anything else: unknown, origin client (an exception thrown by our own code around the call).
 *
 * A content-filter refusal must never read as a rate limit (or anything else): the filter check runs on the
 * provider's error body (type, code, message, Azure's innererror) before the status is looked at, so a 429
 * or 400 carrying a content-policy body is content_filter.
 *
 * Origin: provider-side conditions (rate_limited, overloaded, server_error, timeout reported by an HTTP
 * status) → provider; failures below HTTP (socket errors, client-side timeouts) → network; auth,
 * bad_request, context_length, content_filter, cancelled, unknown → client.
 */
import type { FailureClass, FailureOrigin } from './semconv.js';
import { isHeaderSource, readRetryAfterS, type HeaderSource } from './read-headers.js';

export interface FailureClassification {
  failureClass: FailureClass;
  origin: FailureOrigin;
  /** For `error.type`: the provider's error code/type, else the exception class name, else `_OTHER`. */
  errorType: string;
  httpStatus?: number;
  retryAfterS?: number;
}

/** What the span knows that the error may not: passed by llm-call.ts, optional for everyone else. */
export interface FailureContext {
  /** HTTP status of the response the call received before it failed (e.g. 200 before a body parse error). */
  responseStatus?: number;
}

type Verdict = readonly [FailureClass, FailureOrigin];

// Matched on the lower-cased message, body messages and codes. Separators are optional because proxies
// (LiteLLM's `ContentPolicyViolationError`) glue the words; Anthropic says "content filtering policy".
const CONTENT_FILTER =
  /content[_ -]?filter|content[_ -]?policy|content management policy|responsibleaipolicyviolation|\bsafety\b|prohibited_content|blocklist|blocked by (?:the )?(?:safety|content)|flagged as potentially violating|violat\w* (?:our |the )?usage polic/;
const CONTEXT_LENGTH =
  /context_length_exceeded|prompt is too long|maximum context length|input is too long|context window|too many (?:input )?tokens|exceeds? the (?:maximum|max) (?:number of )?tokens|string_above_max_length|request too large for model/;

const AWS_NAMES: Readonly<Record<string, Verdict>> = {
  ThrottlingException: ['rate_limited', 'provider'],
  TooManyRequestsException: ['rate_limited', 'provider'],
  ServiceQuotaExceededException: ['rate_limited', 'provider'],
  ServiceUnavailableException: ['overloaded', 'provider'],
  ModelNotReadyException: ['overloaded', 'provider'],
  ModelTimeoutException: ['timeout', 'provider'],
  InternalServerException: ['server_error', 'provider'],
  ModelErrorException: ['server_error', 'provider'],
  ModelStreamErrorException: ['server_error', 'provider'],
  ValidationException: ['bad_request', 'client'],
  ResourceNotFoundException: ['bad_request', 'client'],
  ConflictException: ['bad_request', 'client'],
  AccessDeniedException: ['auth', 'client'],
  UnrecognizedClientException: ['auth', 'client'],
  ExpiredTokenException: ['auth', 'client'],
  InvalidSignatureException: ['auth', 'client'],
  CredentialsProviderError: ['auth', 'client'],
};

// google.rpc.Code names as Gemini / Vertex put them in `error.status`.
const GOOGLE_STATUS: Readonly<Record<string, Verdict>> = {
  RESOURCE_EXHAUSTED: ['rate_limited', 'provider'],
  UNAVAILABLE: ['overloaded', 'provider'],
  DEADLINE_EXCEEDED: ['timeout', 'provider'],
  INTERNAL: ['server_error', 'provider'],
  UNKNOWN: ['server_error', 'provider'],
  INVALID_ARGUMENT: ['bad_request', 'client'],
  FAILED_PRECONDITION: ['bad_request', 'client'],
  NOT_FOUND: ['bad_request', 'client'],
  OUT_OF_RANGE: ['bad_request', 'client'],
  PERMISSION_DENIED: ['auth', 'client'],
  UNAUTHENTICATED: ['auth', 'client'],
  CANCELLED: ['cancelled', 'client'],
};

const NETWORK_TIMEOUT_CODES = new Set([
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
]);
const NETWORK_CONNECTION_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EPROTO',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'ERR_STREAM_PREMATURE_CLOSE',
  'ERR_HTTP2_STREAM_ERROR',
]);

// SDK error classes (openai and @anthropic-ai/sdk share these names).
const CLASS_NAMES: Readonly<Record<string, Verdict>> = {
  APIUserAbortError: ['cancelled', 'client'],
  APIConnectionTimeoutError: ['timeout', 'network'],
  APIConnectionError: ['connection', 'network'],
  RateLimitError: ['rate_limited', 'provider'],
  OverloadedError: ['overloaded', 'provider'],
  InternalServerError: ['server_error', 'provider'],
  AuthenticationError: ['auth', 'client'],
  PermissionDeniedError: ['auth', 'client'],
  BadRequestError: ['bad_request', 'client'],
  NotFoundError: ['bad_request', 'client'],
  ConflictError: ['bad_request', 'client'],
  UnprocessableEntityError: ['bad_request', 'client'],
  ContentFilterFinishReasonError: ['content_filter', 'client'],
  LengthFinishReasonError: ['context_length', 'client'],
};

// The provider's own error type/code, for errors that carry no HTTP status: in-band stream errors and
// Responses `response.failed`. (With a status, the status decides: OpenAI sends `server_error` under 503.)
const PROVIDER_ERROR_TYPES: Readonly<Record<string, Verdict>> = {
  // OpenAI (`error.type` in chat streams, `code` in Responses events)
  server_error: ['server_error', 'provider'],
  rate_limit_exceeded: ['rate_limited', 'provider'],
  insufficient_quota: ['rate_limited', 'provider'],
  invalid_request_error: ['bad_request', 'client'],
  invalid_api_key: ['auth', 'client'],
  // Anthropic (`error.type`); overloaded_error is handled with the body refinements
  api_error: ['server_error', 'provider'],
  rate_limit_error: ['rate_limited', 'provider'],
  timeout_error: ['timeout', 'provider'],
  authentication_error: ['auth', 'client'],
  permission_error: ['auth', 'client'],
  not_found_error: ['bad_request', 'client'],
  request_too_large: ['context_length', 'client'],
};

const GENERIC_CLASS_NAMES = new Set(['Error', 'Object', 'DOMException', 'APIError', 'ApiError', '']);

type Bag = Record<string, unknown>;

function asBag(value: unknown): Bag | undefined {
  return typeof value === 'object' && value !== null ? (value as Bag) : undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function httpStatusOf(error: Bag): number | undefined {
  const metadata = asBag(error.$metadata);
  const response = asBag(error.response);
  for (const candidate of [error.status, error.statusCode, metadata?.httpStatusCode, response?.status]) {
    if (
      typeof candidate === 'number' &&
      Number.isInteger(candidate) &&
      candidate >= 100 &&
      candidate <= 599
    ) {
      return candidate;
    }
  }
  return undefined;
}

function classNameOf(error: Bag): string {
  const name = str(error.name);
  if (name && name !== 'Error') return name;
  const ctor = (error as { constructor?: { name?: unknown } }).constructor;
  return str(ctor?.name) ?? name ?? '';
}

/** Google's ApiError keeps the response JSON in its message, sometimes after a prefix. */
function parseJsonInMessage(message: string): Bag | undefined {
  const start = message.indexOf('{');
  if (start < 0) return undefined;
  try {
    return asBag(JSON.parse(message.slice(start)));
  } catch {
    return undefined;
  }
}

interface Facts {
  className: string;
  httpStatus: number | undefined;
  /** Provider codes / types, most specific first. */
  codes: string[];
  /** Lower-cased message and body text for the body-based refinements. */
  text: string;
  googleStatus: string | undefined;
  /** Socket / undici codes found on the error or its cause chain. */
  networkCode: string | undefined;
  headers: HeaderSource | undefined;
}

function gatherFacts(error: Bag): Facts {
  const codes: string[] = [];
  const texts: string[] = [];
  const push = (value: unknown): void => {
    const s = str(value);
    if (s && !codes.includes(s)) codes.push(s);
  };
  const message = str(error.message) ?? '';
  texts.push(message);

  // openai: error.error = { message, type, code }; anthropic: error.error = { type: 'error', error: { type, message } }.
  const body = asBag(error.error);
  const innerBody = asBag(body?.error);
  push(innerBody?.type);
  push(innerBody?.code);
  push(body?.code);
  if (body?.type !== 'error') push(body?.type);
  push(asBag(body?.innererror)?.code); // Azure: { code: 'content_filter', innererror: { code: 'ResponsibleAIPolicyViolation' } }
  texts.push(str(body?.message) ?? '', str(innerBody?.message) ?? '');
  if (typeof error.code === 'string') push(error.code);
  if (typeof error.type === 'string') push(error.type);

  let googleStatus: string | undefined;
  const parsed = message.includes('{') ? parseJsonInMessage(message) : undefined;
  const googleError = asBag(parsed?.error) ?? innerBody ?? body;
  const statusName = str(googleError?.status);
  if (statusName && statusName in GOOGLE_STATUS) {
    googleStatus = statusName;
    push(statusName);
    texts.push(str(googleError?.message) ?? '');
  }

  // Socket errors hide in `cause` (undici's "fetch failed", openai's APIConnectionError).
  let networkCode: string | undefined;
  let cursor: Bag | undefined = error;
  for (let depth = 0; cursor && depth < 5; depth++) {
    const code = str(cursor.code);
    if (code && (NETWORK_TIMEOUT_CODES.has(code) || NETWORK_CONNECTION_CODES.has(code))) {
      networkCode = code;
      break;
    }
    cursor = asBag(cursor.cause);
  }

  const headers = isHeaderSource(error.headers)
    ? (error.headers as HeaderSource)
    : isHeaderSource(asBag(error.$response)?.headers)
      ? (asBag(error.$response)?.headers as HeaderSource)
      : undefined;

  return {
    className: classNameOf(error),
    httpStatus: httpStatusOf(error),
    codes,
    text: [...texts, ...codes].join(' ').toLowerCase(),
    googleStatus,
    networkCode,
    headers,
  };
}

function fromStatus(status: number): Verdict | undefined {
  if (status === 429) return ['rate_limited', 'provider'];
  if (status === 529 || status === 503) return ['overloaded', 'provider'];
  if (status === 504 || status === 408) return ['timeout', 'provider'];
  if (status >= 500) return ['server_error', 'provider'];
  if (status === 401 || status === 403) return ['auth', 'client'];
  if (status === 413) return ['context_length', 'client'];
  if (status >= 400) return ['bad_request', 'client'];
  return undefined;
}

/** JSON.parse / response.json() failures: V8 throws SyntaxError ("Unexpected token", "is not valid JSON"). */
function isParseError(facts: Facts): boolean {
  if (facts.className === 'SyntaxError') return true;
  return /\bjson\b/.test(facts.text) && /\b(?:pars|unexpected|invalid|unterminated)/.test(facts.text);
}

function isSuccessStatus(status: number | undefined): boolean {
  return status !== undefined && status >= 200 && status <= 299;
}

function decide(facts: Facts, context: FailureContext | undefined): Verdict {
  const { className, httpStatus, text, googleStatus, networkCode } = facts;
  if (
    className === 'APIUserAbortError' ||
    className === 'AbortError' ||
    facts.codes.includes('ABORT_ERR') ||
    googleStatus === 'CANCELLED'
  ) {
    return ['cancelled', 'client'];
  }
  // Body refinements apply only to errors that came from a provider response (or carry a provider body);
  // a bare socket error's message never mentions policies.
  if (CONTENT_FILTER.test(text)) return ['content_filter', 'client'];
  if (CONTEXT_LENGTH.test(text)) return ['context_length', 'client'];
  // "Overloaded" in the text counts only for a server-side failure: a 5xx, or an in-band stream error whose
  // provider type says server (OpenAI sends "The engine is currently overloaded" as type server_error).
  const serverSide =
    httpStatus !== undefined
      ? httpStatus >= 500
      : facts.codes.some((code) => PROVIDER_ERROR_TYPES[code]?.[0] === 'server_error');
  if (facts.codes.includes('overloaded_error') || (serverSide && /overloaded/.test(text))) {
    return ['overloaded', 'provider'];
  }
  const aws = AWS_NAMES[className];
  if (aws) return aws;
  if (googleStatus) {
    const google = GOOGLE_STATUS[googleStatus];
    if (google) return google;
  }
  if (className === 'TimeoutError') return ['timeout', 'network']; // AbortSignal.timeout() DOMException
  if (networkCode)
    return NETWORK_TIMEOUT_CODES.has(networkCode) ? ['timeout', 'network'] : ['connection', 'network'];
  // The status before class names: the SDKs map every 5xx to InternalServerError, but 503 and 504 mean
  // something else to an operator.
  if (httpStatus !== undefined) {
    const byStatus = fromStatus(httpStatus);
    if (byStatus) return byStatus;
  } else {
    for (const code of facts.codes) {
      const byType = PROVIDER_ERROR_TYPES[code];
      if (byType) return byType;
    }
  }
  if (httpStatus === undefined && isSuccessStatus(context?.responseStatus) && isParseError(facts)) {
    return ['server_error', 'provider'];
  }
  const byClass = CLASS_NAMES[className];
  if (byClass) return byClass;
  if (className === 'TypeError' && /fetch failed|terminated|network/.test(text))
    return ['connection', 'network'];
  return ['unknown', 'client'];
}

function errorTypeOf(facts: Facts): string {
  const code = facts.codes.find((c) => c !== 'error');
  if (code) return code;
  if (facts.networkCode) return facts.networkCode;
  if (!GENERIC_CLASS_NAMES.has(facts.className)) return facts.className;
  return '_OTHER';
}

/**
 * Classifies anything thrown by an LLM SDK call (or a manual call). Pure, never throws. `context` adds what
 * the span knew before the error (the response status); without it the error alone decides.
 */
export function classifyFailure(error: unknown, context?: FailureContext): FailureClassification {
  try {
    const bag = asBag(error);
    if (!bag) return { failureClass: 'unknown', origin: 'client', errorType: '_OTHER' };
    const facts = gatherFacts(bag);
    const [failureClass, origin] = decide(facts, context);
    const result: FailureClassification = { failureClass, origin, errorType: errorTypeOf(facts) };
    if (facts.httpStatus !== undefined) result.httpStatus = facts.httpStatus;
    const retryAfterS = readRetryAfterS(facts.headers);
    if (retryAfterS !== undefined) result.retryAfterS = retryAfterS;
    return result;
  } catch {
    // A getter on an exotic error threw; classification must never turn one failure into two.
    return { failureClass: 'unknown', origin: 'client', errorType: '_OTHER' };
  }
}
