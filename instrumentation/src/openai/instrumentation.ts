/**
 * OpenTelemetry instrumentation for the `openai` SDK, majors 6 and 7 (the contrib instrumentation stops at
 * 6). One span per call of `chat.completions.create` (which `chat.completions.stream()` and the runner
 * helpers call), `responses.create` (which `responses.stream()` calls) and `embeddings.create`.
 *
 * Patches prototypes reachable from the package's main export (`OpenAI.Chat.Completions.prototype`, …),
 * so the CommonJS and ESM builds are both covered by the same patch and every client instance sees it.
 * `OpenAI.prototype.buildRequest` is also wrapped, only to count the SDK's internal retries.
 */
import {
  InstrumentationBase,
  InstrumentationNodeModuleDefinition,
  isWrapped,
  type InstrumentationModuleDefinition,
} from '@opentelemetry/instrumentation';
import type { Tracer } from '@opentelemetry/api';
import { resolveInstrumentationConfig, type ModelwatchInstrumentationConfig } from '../config.js';
import type { ResolvedInstrumentationConfig } from '../internal-types.js';
import { INSTRUMENTATION_SCOPE } from '../semconv.js';
import { patchBuildRequest } from '../stainless-sdk/attempt-counter.js';
import { callInstrumented, type CallHost, type CallSpec } from '../stainless-sdk/instrumented-call.js';
import { PACKAGE_VERSION } from '../version.js';
import {
  ChatCompletionStreamState,
  chatRequestInfo,
  chatResponseInfo,
  type ChatCompletionParamsLike,
} from './chat-completions.js';
import { embeddingsRequestInfo, embeddingsResponseInfo, type EmbeddingParamsLike } from './embeddings.js';
import {
  failedResponseError,
  ResponsesStreamState,
  responsesRequestInfo,
  responsesResponseInfo,
  type ResponseCreateParamsLike,
} from './responses.js';

/** The supported `openai` versions; repeated in instrumentation/README.md. */
export const OPENAI_SUPPORTED_VERSIONS = ['>=6 <8'];

type AnyMethod = (this: unknown, ...args: unknown[]) => unknown;
interface Patchable {
  prototype: Record<string, AnyMethod>;
}
/** The parts of the `openai` module this instrumentation touches (all optional: fail open on odd builds). */
interface OpenAIModuleLike {
  OpenAI?: Patchable & {
    Chat?: { Completions?: Patchable };
    Responses?: Patchable;
    Embeddings?: Patchable;
  };
}

const CHAT_COMPLETIONS: CallSpec<ChatCompletionParamsLike> = {
  defaultProvider: 'openai',
  requestInfo: chatRequestInfo,
  responseInfo: chatResponseInfo,
  streamState: (captureContent) => new ChatCompletionStreamState(captureContent),
};
const RESPONSES: CallSpec<ResponseCreateParamsLike> = {
  defaultProvider: 'openai',
  requestInfo: responsesRequestInfo,
  responseInfo: responsesResponseInfo,
  failureOf: failedResponseError,
  streamState: (captureContent) => new ResponsesStreamState(captureContent),
};
const EMBEDDINGS: CallSpec<EmbeddingParamsLike> = {
  defaultProvider: 'openai',
  requestInfo: embeddingsRequestInfo,
  responseInfo: embeddingsResponseInfo,
};

export class OpenAIInstrumentation extends InstrumentationBase<ModelwatchInstrumentationConfig> {
  // Resolved lazily: the base constructor calls setConfig() before subclass fields exist.
  private _resolvedConfig: ResolvedInstrumentationConfig | undefined;
  private readonly _host: CallHost;

  constructor(config: ModelwatchInstrumentationConfig = {}) {
    super(INSTRUMENTATION_SCOPE, PACKAGE_VERSION, config);
    // Arrow functions keep `this`; the host object is what the patched methods (plain functions, whose
    // `this` is the SDK resource) close over.
    const tracerOf = (): Tracer => this.tracer;
    this._host = {
      get tracer() {
        return tracerOf();
      },
      activeConfig: () => this._activeConfig(),
    };
  }

  override setConfig(config: ModelwatchInstrumentationConfig = {}): void {
    super.setConfig(config);
    this._resolvedConfig = undefined;
  }

  protected init(): InstrumentationModuleDefinition[] {
    return [
      new InstrumentationNodeModuleDefinition(
        'openai',
        OPENAI_SUPPORTED_VERSIONS,
        (moduleExports: unknown) => {
          this._patch(moduleExports);
          return moduleExports;
        },
        (moduleExports: unknown) => this._unpatch(moduleExports),
      ),
    ];
  }

  /**
   * Patches a module object you loaded yourself: for bundlers (no require/import hook), and for a copy of
   * the SDK installed under another name (an npm alias such as `openai-v6`), which the hooks cannot match
   * because they match on the package name. Idempotent.
   */
  manuallyInstrument(moduleExports: unknown): void {
    this._patch(moduleExports);
  }

  /** Undoes `manuallyInstrument`. */
  manuallyUninstrument(moduleExports: unknown): void {
    this._unpatch(moduleExports);
  }

  private _getPatchedChatCompletionsCreate(): (original: AnyMethod) => AnyMethod {
    const host = this._host;
    return (original) =>
      function patchedChatCompletionsCreate(this: unknown, ...args: unknown[]): unknown {
        return callInstrumented(host, CHAT_COMPLETIONS, original, this, args);
      };
  }

  private _getPatchedResponsesCreate(): (original: AnyMethod) => AnyMethod {
    const host = this._host;
    return (original) =>
      function patchedResponsesCreate(this: unknown, ...args: unknown[]): unknown {
        return callInstrumented(host, RESPONSES, original, this, args);
      };
  }

  private _getPatchedEmbeddingsCreate(): (original: AnyMethod) => AnyMethod {
    const host = this._host;
    return (original) =>
      function patchedEmbeddingsCreate(this: unknown, ...args: unknown[]): unknown {
        return callInstrumented(host, EMBEDDINGS, original, this, args);
      };
  }

  private _activeConfig(): ResolvedInstrumentationConfig | undefined {
    if (!this.isEnabled()) return undefined;
    this._resolvedConfig ??= resolveInstrumentationConfig(this.getConfig());
    return this._resolvedConfig.enabled ? this._resolvedConfig : undefined;
  }

  /** The patch targets that exist in this build of the SDK, paired with their wrapper factories. */
  private _targets(
    moduleExports: unknown,
  ): Array<[Patchable['prototype'], string, (original: AnyMethod) => AnyMethod]> {
    const exports = unwrapModule(moduleExports);
    const OpenAI = exports?.OpenAI;
    if (!OpenAI) {
      this._diag.warn('openai module without an OpenAI export; not instrumented');
      return [];
    }
    const targets: Array<[Patchable['prototype'], string, (original: AnyMethod) => AnyMethod]> = [];
    const add = (
      cls: Patchable | undefined,
      method: string,
      factory: (original: AnyMethod) => AnyMethod,
    ): void => {
      if (cls && typeof cls.prototype?.[method] === 'function')
        targets.push([cls.prototype, method, factory]);
    };
    add(OpenAI.Chat?.Completions, 'create', this._getPatchedChatCompletionsCreate());
    add(OpenAI.Responses, 'create', this._getPatchedResponsesCreate());
    add(OpenAI.Embeddings, 'create', this._getPatchedEmbeddingsCreate());
    add(OpenAI, 'buildRequest', (original) => patchBuildRequest(original));
    return targets;
  }

  private _patch(moduleExports: unknown): void {
    for (const [prototype, method, factory] of this._targets(moduleExports)) {
      if (isWrapped(prototype[method])) this._unwrap(prototype, method);
      this._wrap(prototype, method, factory);
    }
  }

  private _unpatch(moduleExports: unknown): void {
    for (const [prototype, method] of this._targets(moduleExports)) {
      if (isWrapped(prototype[method])) this._unwrap(prototype, method);
    }
  }
}

/** ESM namespaces (import-in-the-middle, `import * as`) carry the CommonJS-style exports on `default` too. */
function unwrapModule(moduleExports: unknown): OpenAIModuleLike | undefined {
  if (typeof moduleExports !== 'object' && typeof moduleExports !== 'function') return undefined;
  const exports = moduleExports as OpenAIModuleLike & { default?: OpenAIModuleLike };
  if (exports?.OpenAI) return exports;
  return exports?.default;
}
