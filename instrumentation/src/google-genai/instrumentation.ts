/**
 * Instrumentation for `@google/genai` (majors 1–3): one span per generateContent HTTP call, provider
 * `gcp.gemini` (Gemini API) or `gcp.vertex_ai` (`vertexai: true`).
 *
 * Patch point: `Models.prototype.generateContentInternal` and `generateContentStreamInternal`. The public
 * `ai.models.generateContent` / `generateContentStream` are arrow-function class fields assigned in the
 * constructor, so they cannot be patched on the prototype (only per instance, after construction). Every
 * public path — plain calls, automatic function calling, automatic continuation, `chats.sendMessage` —
 * ends in these two prototype methods, one invocation per HTTP request, and they see the model, the params
 * (config included), the typed response (usageMetadata, modelVersion, finishReason, responseId) or the
 * ApiError. `Models` is a named export in every major, so the class is reachable from the module exports.
 * An AFC loop or a continuation therefore yields one span per request the model served, which is what
 * the per-call dashboards count.
 *
 * Retries: the SDK retries inside `ApiClient.apiCall` when `httpOptions.retryOptions` is set. To count the
 * attempts (and see each attempt's status and headers, which ApiError drops), `apiCall` on the ApiClient
 * prototype is wrapped lazily (the class is not exported; it is found through `this.apiClient`) and hands
 * a counting `fetch` to the original only while one of our calls is in flight (an AsyncLocalStorage scope).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { diag } from '@opentelemetry/api';
import { InstrumentationNodeModuleDefinition, isWrapped } from '@opentelemetry/instrumentation';
import { resolveInstrumentationConfig, type ModelwatchInstrumentationConfig } from '../config.js';
import { ModelwatchInstrumentationBase } from '../instrumentation-base.js';
import type { ResolvedInstrumentationConfig } from '../internal-types.js';
import type { LlmCall, LlmHttpInfo } from '../llm-call-types.js';
import { startLlmCall } from '../llm-call.js';
import { resolveProvider } from '../provider-from-base-url.js';
import { INSTRUMENTATION_SCOPE } from '../semconv.js';
import { PACKAGE_VERSION } from '../version.js';
import { wrapAsyncIterable } from '../wrap-stream.js';
import {
  contentFilteredError,
  contentFilterReason,
  generateContentRequestInfo,
  generateContentResponseInfo,
  GenerateContentStreamState,
  type GenerateContentParamsLike,
  type GenerateContentResponseLike,
} from './generate-content.js';

export const GOOGLE_GENAI_MODULE = '@google/genai';
export const GOOGLE_GENAI_SUPPORTED_VERSIONS = ['>=1 <4'];

const PATCHED_METHODS = ['generateContentInternal', 'generateContentStreamInternal'] as const;
type PatchedMethod = (typeof PATCHED_METHODS)[number];

/** The parts of the SDK's (unexported) ApiClient we read; every member may be missing in some version. */
interface ApiClientLike {
  isVertexAI?: () => boolean;
  getBaseUrl?: () => string;
  apiCall?: (...args: unknown[]) => Promise<unknown>;
}

interface ModelsLike {
  apiClient?: ApiClientLike;
}

type GenerateFn = (
  this: ModelsLike,
  params: GenerateContentParamsLike,
  ...rest: unknown[]
) => Promise<unknown>;
type FetchFn = (input: unknown, init?: unknown) => Promise<Response>;

/** What the counting fetch saw of the HTTP attempts behind one call. */
class AttemptLog {
  attempts = 0;
  statusCode: number | undefined;
  headers: Headers | undefined;

  httpInfo(): LlmHttpInfo {
    const info: LlmHttpInfo = {};
    if (this.statusCode !== undefined) info.statusCode = this.statusCode;
    if (this.headers !== undefined) info.headers = this.headers;
    if (this.attempts > 0) info.retryCount = this.attempts - 1;
    return info;
  }
}

const attemptScope = new AsyncLocalStorage<AttemptLog>();

function countingFetch(base: FetchFn, log: AttemptLog): FetchFn {
  return async (input, init) => {
    log.attempts++;
    const response = await base(input, init);
    log.statusCode = response.status;
    log.headers = response.headers;
    return response;
  };
}

function isAbortError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'AbortError';
}

function isAborted(signal: unknown): boolean {
  return typeof signal === 'object' && signal !== null && (signal as { aborted?: unknown }).aborted === true;
}

/**
 * The SDK enforces `httpOptions.timeout` by aborting its own AbortController, so a timeout surfaces as a
 * plain AbortError, indistinguishable from the caller cancelling. If the caller's signal is not aborted, the
 * SDK's timer fired: the span gets a TimeoutError (the caller still receives the original error).
 */
function errorForSpan(error: unknown, params: GenerateContentParamsLike): unknown {
  if (!isAbortError(error) || isAborted(params?.config?.abortSignal)) return error;
  const timeout = new Error('request timed out (httpOptions.timeout)', { cause: error });
  timeout.name = 'TimeoutError';
  return timeout;
}

function serverOf(apiClient: ApiClientLike | undefined): {
  baseUrl?: string;
  address?: string;
  port?: number;
} {
  try {
    const baseUrl = apiClient?.getBaseUrl?.();
    if (typeof baseUrl !== 'string') return {};
    const url = new URL(baseUrl);
    const port = url.port ? Number(url.port) : url.protocol === 'http:' ? 80 : 443;
    return { baseUrl, address: url.hostname, port };
  } catch {
    return {};
  }
}

export class GoogleGenAIInstrumentation extends ModelwatchInstrumentationBase {
  /** ApiClient prototypes whose apiCall we wrapped, so disable() can restore them. */
  private readonly apiClientPrototypes = new Set<object>();

  constructor(config: ModelwatchInstrumentationConfig = {}) {
    // Every span of this package shares one scope name (semconv.ts), whichever SDK it came from.
    super(INSTRUMENTATION_SCOPE, PACKAGE_VERSION, config);
  }

  protected init(): InstrumentationNodeModuleDefinition {
    return new InstrumentationNodeModuleDefinition(
      GOOGLE_GENAI_MODULE,
      GOOGLE_GENAI_SUPPORTED_VERSIONS,
      (moduleExports: unknown) => this.patch(moduleExports),
      (moduleExports: unknown) => this.unpatch(moduleExports),
    );
  }

  /**
   * Patches a module object obtained some other way: bundled apps (no require/import hook sees the
   * package) or a second copy such as an npm alias of another major (`google-genai-v2`).
   */
  manuallyInstrument(moduleExports: unknown): void {
    this.patch(moduleExports);
  }

  private patch<T>(moduleExports: T): T {
    const proto = modelsPrototype(moduleExports);
    if (!proto) {
      diag.debug('modelwatch: @google/genai has no Models class; not instrumented');
      return moduleExports;
    }
    for (const method of PATCHED_METHODS) {
      if (typeof proto[method] !== 'function' || isWrapped(proto[method])) continue;
      this._wrap(proto, method, (original) =>
        this.getPatchedGenerate(original, method === 'generateContentStreamInternal'),
      );
    }
    return moduleExports;
  }

  private unpatch(moduleExports: unknown): void {
    const proto = modelsPrototype(moduleExports);
    if (proto)
      for (const method of PATCHED_METHODS) if (isWrapped(proto[method])) this._unwrap(proto, method);
    for (const apiProto of this.apiClientPrototypes) this._unwrap(apiProto as ApiClientLike, 'apiCall');
    this.apiClientPrototypes.clear();
  }

  private getPatchedGenerate(original: GenerateFn, stream: boolean): GenerateFn {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the wrapper needs both `this`es
    const instrumentation = this;
    return function patchedGenerate(this: ModelsLike, params, ...rest) {
      const config = resolveInstrumentationConfig(instrumentation.getConfig());
      if (!config.enabled) return original.call(this, params, ...rest);
      let call: LlmCall;
      const log = new AttemptLog();
      try {
        call = instrumentation.startCall(this, params, stream, config);
        instrumentation.ensureApiCallPatched(this.apiClient);
      } catch (error) {
        diag.debug('modelwatch: google-genai span setup failed', error);
        return original.call(this, params, ...rest);
      }
      const pending = attemptScope.run(log, () => original.call(this, params, ...rest));
      return pending.then(
        (result) => (stream ? observeStream(call, log, params, result) : recordResponse(call, log, result)),
        (error: unknown) => {
          call.http(log.httpInfo());
          call.fail(errorForSpan(error, params));
          throw error;
        },
      );
    };
  }

  private startCall(
    models: ModelsLike,
    params: GenerateContentParamsLike,
    stream: boolean,
    config: ResolvedInstrumentationConfig,
  ): LlmCall {
    const vertex = models.apiClient?.isVertexAI?.() === true;
    const server = serverOf(models.apiClient);
    const provider = resolveProvider(config, vertex ? 'gcp.vertex_ai' : 'gcp.gemini', server.baseUrl);
    const request = generateContentRequestInfo(params ?? {}, {
      provider,
      serverAddress: server.address,
      serverPort: server.port,
      stream,
    });
    return startLlmCall(this.tracer, config, request);
  }

  private ensureApiCallPatched(apiClient: ApiClientLike | undefined): void {
    if (!apiClient) return;
    const proto = Object.getPrototypeOf(apiClient) as ApiClientLike | null;
    if (!proto || typeof proto.apiCall !== 'function' || isWrapped(proto.apiCall)) return;
    this.apiClientPrototypes.add(proto);
    this._wrap(proto, 'apiCall', (original) => {
      // apiCall(url, requestInit, retryOptions, timeout, abortSignal, fetchFn) in majors 1–3.
      return function patchedApiCall(this: ApiClientLike, ...args: unknown[]) {
        const log = attemptScope.getStore();
        if (log && args.length <= 6) {
          const given = args[5];
          const base = (typeof given === 'function' ? given : globalThis.fetch) as FetchFn;
          const patched = [...args];
          while (patched.length < 6) patched.push(undefined);
          patched[5] = countingFetch(base, log);
          return original!.apply(this, patched);
        }
        return original!.apply(this, args);
      };
    });
  }
}

function modelsPrototype(moduleExports: unknown): Record<PatchedMethod, GenerateFn> | undefined {
  const Models = (moduleExports as { Models?: unknown } | null)?.Models;
  if (typeof Models !== 'function') return undefined;
  return Models.prototype as Record<PatchedMethod, GenerateFn>;
}

function recordResponse(call: LlmCall, log: AttemptLog, result: unknown): unknown {
  const response = result as GenerateContentResponseLike & {
    sdkHttpResponse?: { headers?: Record<string, string> };
  };
  const http = log.httpInfo();
  http.statusCode ??= 200;
  if (!http.headers && response?.sdkHttpResponse?.headers) http.headers = response.sdkHttpResponse.headers;
  call.http(http);
  call.response(generateContentResponseInfo(response));
  const blocked = contentFilterReason(response);
  if (blocked) call.fail(contentFilteredError(blocked));
  else call.end();
  return result;
}

function observeStream(
  call: LlmCall,
  log: AttemptLog,
  params: GenerateContentParamsLike,
  result: unknown,
): unknown {
  if (typeof (result as AsyncIterable<unknown> | null)?.[Symbol.asyncIterator] !== 'function') {
    call.end();
    return result;
  }
  call.http({ ...log.httpInfo(), statusCode: log.statusCode ?? 200 });
  const state = new GenerateContentStreamState();
  return wrapAsyncIterable(result as AsyncIterable<GenerateContentResponseLike>, {
    onChunk(chunk) {
      if (state.add(chunk)) call.firstToken();
    },
    onEnd() {
      call.response(state.responseInfo());
      const blocked = state.contentFilterReason();
      if (blocked) call.fail(contentFilteredError(blocked));
      else call.end();
    },
    onError(error) {
      call.response(state.responseInfo());
      call.fail(errorForSpan(error, params));
    },
  });
}
