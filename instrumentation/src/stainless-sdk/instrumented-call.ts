/**
 * The body of every patched resource method of `openai` and `@anthropic-ai/sdk` (`create` on a resource
 * prototype): start the call, make its retries countable (attempt-counter.ts), call the original inside
 * the call's context, and watch the returned APIPromise. Fails open: if anything of ours throws before the
 * original is called, the original is called exactly as the caller called it.
 */
import { context, diag, type Context, type Tracer } from '@opentelemetry/api';
import { withActiveSpan } from '../active-span-context.js';
import type { ResolvedInstrumentationConfig } from '../internal-types.js';
import type { LlmRequestInfo, LlmResponseInfo } from '../llm-call-types.js';
import { providerFromBaseUrl, resolveProvider } from '../provider-from-base-url.js';
import { attemptsTrackedByContext, withAttemptCounter } from './attempt-counter.js';
import {
  ApiCallObserver,
  observeApiPromise,
  type RequestReader,
  type ResultReaders,
  type StreamState,
} from './observe-api-promise.js';

/** What one patched method knows about its API. */
export interface CallSpec<Params> {
  /** gen_ai.provider.name when neither the config nor the base URL says otherwise. */
  defaultProvider: string;
  requestInfo(
    params: Params,
    base: Pick<LlmRequestInfo, 'provider' | 'serverAddress' | 'serverPort'>,
  ): LlmRequestInfo;
  responseInfo(result: unknown, captureContent: boolean): LlmResponseInfo;
  failureOf?(result: unknown): Error | undefined;
  streamState?(captureContent: boolean): StreamState;
}

/** The instrumentation as the patched methods see it, kept current by the instrumentation. */
export interface CallHost {
  tracer: Tracer;
  /** Resolved config, or undefined when the instrumentation is disabled. */
  config: ResolvedInstrumentationConfig | undefined;
}

interface Endpoint {
  serverAddress: string | undefined;
  serverPort: number | undefined;
  /** Provider from the host table, per default provider (openai vs anthropic clients). */
  providers: Map<string, string>;
}

// Clients are long-lived and few; parsing their base URL once instead of per call keeps `new URL` off the
// hot path. Bounded so a process creating clients for ever-changing URLs cannot grow it without limit.
const endpoints = new Map<string, Endpoint>();
const MAX_CACHED_ENDPOINTS = 256;

function endpointOf(baseURL: string | undefined): Endpoint {
  const key = baseURL ?? '';
  let endpoint = endpoints.get(key);
  if (endpoint) return endpoint;
  endpoint = { serverAddress: undefined, serverPort: undefined, providers: new Map() };
  if (baseURL) {
    try {
      const url = new URL(baseURL);
      endpoint.serverAddress = url.hostname.replace(/^\[|\]$/g, '');
      endpoint.serverPort = url.port ? Number(url.port) : url.protocol === 'http:' ? 80 : 443;
    } catch {
      // Unparsable base URL: no server attributes, still a span.
    }
  }
  if (endpoints.size >= MAX_CACHED_ENDPOINTS) endpoints.clear();
  endpoints.set(key, endpoint);
  return endpoint;
}

function providerFor(
  config: ResolvedInstrumentationConfig,
  endpoint: Endpoint,
  defaultProvider: string,
  baseURL: string | undefined,
): string {
  if (config.providerOverride !== undefined) return resolveProvider(config, defaultProvider, baseURL);
  let provider = endpoint.providers.get(defaultProvider);
  if (provider === undefined) {
    provider = providerFromBaseUrl(baseURL, defaultProvider);
    endpoint.providers.set(defaultProvider, provider);
  }
  return provider;
}

type AnyMethod = (this: unknown, ...args: unknown[]) => unknown;

/** Resource instances hold their client as `_client` in both SDKs; its `baseURL` says where calls go. */
function baseURLOf(resource: unknown): string | undefined {
  const client = (resource as { _client?: { baseURL?: unknown } } | null | undefined)?._client;
  return typeof client?.baseURL === 'string' ? client.baseURL : undefined;
}

function callOriginal(original: AnyMethod, resource: unknown, body: unknown, options: unknown): unknown {
  return original.call(resource, body, options);
}

/** A CallSpec as the call's observer reads it; built once per patched method. */
export type CallReaders = ResultReaders & RequestReader;

export function callReaders<Params>(spec: CallSpec<Params>): CallReaders {
  const readers: CallReaders = {
    responseInfo: (result, captureContent) => spec.responseInfo(result, captureContent),
    read(params, resource, config) {
      const baseURL = baseURLOf(resource);
      const endpoint = endpointOf(baseURL);
      return spec.requestInfo(params as Params, {
        provider: providerFor(config, endpoint, spec.defaultProvider, baseURL),
        serverAddress: endpoint.serverAddress,
        serverPort: endpoint.serverPort,
      });
    },
  };
  const { failureOf, streamState } = spec;
  if (failureOf) readers.failureOf = (result) => failureOf.call(spec, result);
  if (streamState) readers.streamState = (captureContent) => streamState.call(spec, captureContent);
  return readers;
}

/**
 * Over real HTTP, with a provider that takes time to answer, what a call adds to its latency is mostly the
 * code it runs while the caches are cold (the process idled, waiting for the last answer): a few µs per
 * distinct function or constructor, far above its cost in a hot loop (measured with checkpoints in
 * `create()`: ~5 µs to build the request info, ~4-5 µs each for the call and its observer). So before the
 * SDK sends the request only what cannot wait runs: one observer object (start time, parent context, a
 * shallow copy of the params), without a context manager the attempt counter in a copy of the request
 * options, the call's span in the active context (for child spans and propagation), and the hooks on the
 * SDK's promise. The request info, the
 * SDK span and everything else are built after the caller got its result (deferred-span-end.ts).
 */
export function callInstrumented(
  host: CallHost,
  readers: CallReaders,
  original: AnyMethod,
  resource: unknown,
  args: unknown[],
): unknown {
  const config = host.config;
  if (config === undefined) return original.apply(resource, args);

  let observer: ApiCallObserver;
  let countedOptions: unknown;
  let parent: Context;
  try {
    parent = context.active();
    observer = new ApiCallObserver(host.tracer, config, readers, resource, args[0], args[1], parent);
    if (attemptsTrackedByContext()) {
      observer.countedInContext = true;
      countedOptions = args[1];
    } else countedOptions = withAttemptCounter(args[1], observer);
  } catch (error) {
    diag.debug('modelwatch: could not start the LLM span; calling the SDK uninstrumented', error);
    return original.apply(resource, args);
  }

  let result: unknown;
  try {
    const ctx = withActiveSpan(parent, observer.span);
    // context.with's own (fn, thisArg, ...args) form: no closure per call, and no thisArg (the context
    // managers bind fn to it, a bound function per call). create() takes (body, options); anything after
    // them is passed through as the caller gave it.
    result =
      args.length <= 2
        ? context.with(ctx, callOriginal, undefined, original, resource, args[0], countedOptions)
        : context.with(ctx, original, resource, args[0], countedOptions, ...args.slice(2));
  } catch (error) {
    // The SDK itself threw synchronously (e.g. invalid arguments): record it, rethrow it unchanged.
    observer.fail(error);
    throw error;
  }
  return observeApiPromise(result, observer);
}
