/**
 * Instrumentation for `@aws-sdk/client-bedrock-runtime` (AWS SDK v3, the only major with this client):
 * one span per ConverseCommand, ConverseStreamCommand, InvokeModelCommand or
 * InvokeModelWithResponseStreamCommand, provider `aws.bedrock`.
 *
 * Patch point: `BedrockRuntimeClient.prototype.send`. The alternative, a smithy middleware, has to be
 * added to each client's middlewareStack at construction, which means patching the constructor (awkward
 * for an ES class, and clients built before the instrumentation was enabled would be missed). `send` is the
 * one public entry every call goes through (the aggregated `BedrockRuntime` class calls it too), it sees
 * the command (its input and class), the output with `$metadata` (status, request id, attempts — so the
 * retry count covers the SDK's whole retry loop) and the final error, and it has been stable across v3.
 * Only promise-style calls are instrumented; the legacy callback form is passed through untouched.
 */
import { diag } from '@opentelemetry/api';
import { InstrumentationNodeModuleDefinition, isWrapped } from '@opentelemetry/instrumentation';
import { resolveInstrumentationConfig, type ModelwatchInstrumentationConfig } from '../config.js';
import { ModelwatchInstrumentationBase } from '../instrumentation-base.js';
import type { ResolvedInstrumentationConfig } from '../internal-types.js';
import type { LlmCall, LlmHttpInfo, LlmRequestInfo, LlmResponseInfo } from '../llm-call-types.js';
import { startLlmCall } from '../llm-call.js';
import { resolveProvider } from '../provider-from-base-url.js';
import { INSTRUMENTATION_SCOPE } from '../semconv.js';
import { PACKAGE_VERSION } from '../version.js';
import { wrapAsyncIterable } from '../wrap-stream.js';
import {
  contentFilteredError,
  contentFilterStopReason,
  converseRequestInfo,
  converseResponseInfo,
  ConverseStreamState,
  type ConverseInputLike,
  type ConverseOutputLike,
  type ConverseStreamEventLike,
} from './converse.js';
import {
  invokeModelRequestInfo,
  invokeModelResponseInfo,
  InvokeStreamState,
  type InvokeModelInputLike,
  type InvokeStreamEventLike,
} from './invoke-model.js';

export const BEDROCK_RUNTIME_MODULE = '@aws-sdk/client-bedrock-runtime';
export const BEDROCK_RUNTIME_SUPPORTED_VERSIONS = ['>=3.500 <4'];

type Operation = 'converse' | 'converse-stream' | 'invoke' | 'invoke-stream';

const COMMAND_CLASSES: ReadonlyArray<readonly [string, Operation]> = [
  ['ConverseCommand', 'converse'],
  ['ConverseStreamCommand', 'converse-stream'],
  ['InvokeModelCommand', 'invoke'],
  ['InvokeModelWithResponseStreamCommand', 'invoke-stream'],
];

interface MetadataLike {
  httpStatusCode?: number;
  requestId?: string;
  attempts?: number;
}

interface CommandLike {
  input?: unknown;
}

/** The parts of the resolved client config we read to name the server. */
interface ClientLike {
  config?: {
    endpoint?: () => Promise<{ hostname?: string; port?: number; protocol?: string }>;
    isCustomEndpoint?: boolean;
    region?: () => Promise<string>;
  };
}

type SendFn = (this: ClientLike, command: unknown, ...rest: unknown[]) => unknown;

interface Server {
  address?: string;
  port?: number;
  baseUrl?: string;
}

/** Resolved per client once: endpoint and region providers are async but stable for a client's life. */
const serverByClient = new WeakMap<object, Promise<Server>>();

async function resolveServer(client: ClientLike): Promise<Server> {
  try {
    const config = client.config;
    if (config?.isCustomEndpoint && typeof config.endpoint === 'function') {
      const endpoint = await config.endpoint();
      const secure = endpoint.protocol !== 'http:';
      const port = endpoint.port ?? (secure ? 443 : 80);
      return {
        address: endpoint.hostname,
        port,
        baseUrl: `${secure ? 'https' : 'http'}://${endpoint.hostname}:${port}`,
      };
    }
    const region = typeof config?.region === 'function' ? await config.region() : undefined;
    if (!region) return {};
    const address = `bedrock-runtime.${region}.amazonaws.com`;
    return { address, port: 443, baseUrl: `https://${address}` };
  } catch {
    return {};
  }
}

function serverOf(client: ClientLike): Promise<Server> {
  let server = serverByClient.get(client);
  if (!server) {
    server = resolveServer(client);
    serverByClient.set(client, server);
  }
  return server;
}

function metadataHttpInfo(metadata: MetadataLike | undefined, headers?: unknown): LlmHttpInfo {
  const info: LlmHttpInfo = {};
  if (!metadata || typeof metadata !== 'object') return info;
  if (typeof metadata.httpStatusCode === 'number') info.statusCode = metadata.httpStatusCode;
  if (typeof metadata.requestId === 'string') info.requestId = metadata.requestId;
  if (typeof metadata.attempts === 'number' && metadata.attempts > 0) info.retryCount = metadata.attempts - 1;
  if (headers && typeof headers === 'object') info.headers = headers as LlmHttpInfo['headers'];
  return info;
}

function finishCall(call: LlmCall, info: LlmResponseInfo): void {
  call.response(info);
  const filtered = contentFilterStopReason(info);
  if (filtered) call.fail(contentFilteredError(filtered));
  else call.end();
}

export class BedrockRuntimeInstrumentation extends ModelwatchInstrumentationBase {
  constructor(config: ModelwatchInstrumentationConfig = {}) {
    // Every span of this package shares one scope name (semconv.ts), whichever SDK it came from.
    super(INSTRUMENTATION_SCOPE, PACKAGE_VERSION, config);
  }

  protected init(): InstrumentationNodeModuleDefinition {
    return new InstrumentationNodeModuleDefinition(
      BEDROCK_RUNTIME_MODULE,
      BEDROCK_RUNTIME_SUPPORTED_VERSIONS,
      (moduleExports: unknown) => this.patch(moduleExports),
      (moduleExports: unknown) => this.unpatch(moduleExports),
    );
  }

  /** Patches a module object obtained some other way (bundled apps, where no require/import hook runs). */
  manuallyInstrument(moduleExports: unknown): void {
    this.patch(moduleExports);
  }

  private patch<T>(moduleExports: T): T {
    const proto = clientPrototype(moduleExports);
    if (!proto) {
      diag.debug('modelwatch: @aws-sdk/client-bedrock-runtime has no BedrockRuntimeClient; not instrumented');
      return moduleExports;
    }
    if (!isWrapped(proto.send)) {
      const operationOf = commandMatcher(moduleExports);
      this._wrap(proto, 'send', (original) => this.getPatchedSend(original, operationOf));
    }
    return moduleExports;
  }

  private unpatch(moduleExports: unknown): void {
    const proto = clientPrototype(moduleExports);
    if (proto && isWrapped(proto.send)) this._unwrap(proto, 'send');
  }

  private getPatchedSend(original: SendFn, operationOf: (command: unknown) => Operation | undefined): SendFn {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the wrapper needs both `this`es
    const instrumentation = this;
    return function patchedSend(this: ClientLike, command, ...rest) {
      const operation = operationOf(command);
      const config = operation ? resolveInstrumentationConfig(instrumentation.getConfig()) : undefined;
      // The callback form (`send(command, cb)`) returns nothing to observe; leave it alone.
      if (!operation || !config?.enabled || typeof rest[rest.length - 1] === 'function') {
        return original.call(this, command, ...rest);
      }
      return instrumentation.tracedSend(this, original, command as CommandLike, rest, operation, config);
    };
  }

  private async tracedSend(
    client: ClientLike,
    original: SendFn,
    command: CommandLike,
    rest: unknown[],
    operation: Operation,
    config: ResolvedInstrumentationConfig,
  ): Promise<unknown> {
    let call: LlmCall;
    try {
      const server = await serverOf(client);
      call = startLlmCall(this.tracer, config, requestInfo(operation, command.input, server, config));
    } catch (error) {
      diag.debug('modelwatch: bedrock span setup failed', error);
      return original.call(client, command, ...rest);
    }
    let output: unknown;
    try {
      output = await original.call(client, command, ...rest);
    } catch (error) {
      const failure = error as { $metadata?: MetadataLike; $response?: { headers?: unknown } } | null;
      call.http(metadataHttpInfo(failure?.$metadata, failure?.$response?.headers));
      call.fail(error);
      throw error;
    }
    try {
      observeOutput(call, operation, output);
    } catch (error) {
      // Our bug must not cost the caller its response; end the span with what we have.
      diag.debug('modelwatch: bedrock response recording failed', error);
      call.end();
    }
    return output;
  }
}

function requestInfo(
  operation: Operation,
  input: unknown,
  server: Server,
  config: ResolvedInstrumentationConfig,
): LlmRequestInfo {
  const base = {
    provider: resolveProvider(config, 'aws.bedrock', server.baseUrl),
    serverAddress: server.address,
    serverPort: server.port,
    stream: operation === 'converse-stream' || operation === 'invoke-stream',
  };
  const fields = (input ?? {}) as ConverseInputLike & InvokeModelInputLike;
  return operation === 'converse' || operation === 'converse-stream'
    ? converseRequestInfo(fields, base)
    : invokeModelRequestInfo(fields, base);
}

/** Records a response, or wraps its event stream in place so the span ends when the caller has read it. */
function observeOutput(call: LlmCall, operation: Operation, output: unknown): void {
  const result = (output ?? {}) as { $metadata?: MetadataLike; stream?: unknown; body?: unknown };
  call.http(metadataHttpInfo(result.$metadata));
  switch (operation) {
    case 'converse':
      finishCall(call, converseResponseInfo(result as ConverseOutputLike));
      return;
    case 'invoke':
      finishCall(call, invokeModelResponseInfo(result));
      return;
    case 'converse-stream': {
      if (!isAsyncIterable(result.stream)) return call.end();
      const state = new ConverseStreamState();
      result.stream = wrapAsyncIterable(
        result.stream as AsyncIterable<ConverseStreamEventLike>,
        streamHooks(call, state),
      );
      return;
    }
    case 'invoke-stream': {
      if (!isAsyncIterable(result.body)) return call.end();
      const state = new InvokeStreamState();
      result.body = wrapAsyncIterable(
        result.body as AsyncIterable<InvokeStreamEventLike>,
        streamHooks(call, state),
      );
      return;
    }
  }
}

function streamHooks<E>(call: LlmCall, state: { add(event: E): boolean; responseInfo(): LlmResponseInfo }) {
  return {
    onChunk(event: E) {
      if (state.add(event)) call.firstToken();
    },
    onEnd() {
      finishCall(call, state.responseInfo());
    },
    onError(error: unknown) {
      // A mid-stream exception event (throttlingException, modelStreamErrorException, …) or a broken socket.
      call.response(state.responseInfo());
      call.fail(error);
    },
  };
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof (value as AsyncIterable<unknown> | null)?.[Symbol.asyncIterator] === 'function';
}

function clientPrototype(moduleExports: unknown): { send: SendFn } | undefined {
  const Client = (moduleExports as { BedrockRuntimeClient?: unknown } | null)?.BedrockRuntimeClient;
  if (typeof Client !== 'function' || typeof Client.prototype?.send !== 'function') return undefined;
  return Client.prototype as { send: SendFn };
}

/**
 * Identifies the four commands by `instanceof` against this module copy's classes (robust to minified
 * class names), falling back to the constructor name for commands built from another copy of the package.
 */
function commandMatcher(moduleExports: unknown): (command: unknown) => Operation | undefined {
  const exportsBag = (moduleExports ?? {}) as Record<string, unknown>;
  const classes = COMMAND_CLASSES.flatMap(([name, operation]) => {
    const ctor = exportsBag[name];
    return typeof ctor === 'function' ? [[ctor, operation] as const] : [];
  });
  const byName = new Map(COMMAND_CLASSES);
  return (command) => {
    if (typeof command !== 'object' || command === null) return undefined;
    for (const [ctor, operation] of classes) if (command instanceof ctor) return operation;
    return byName.get((command as { constructor?: { name?: string } }).constructor?.name ?? '');
  };
}
