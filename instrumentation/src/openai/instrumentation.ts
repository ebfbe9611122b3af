/**
 * OpenTelemetry instrumentation for the `openai` SDK, majors 6 and 7 (the contrib instrumentation stops at
 * 6). One span per call of `chat.completions.create` (which `chat.completions.stream()` and the runner
 * helpers call), `responses.create` (which `responses.stream()` calls) and `embeddings.create`.
 *
 * Patches prototypes reachable from the package's main export (`OpenAI.Chat.Completions.prototype`, …),
 * so the CommonJS and ESM builds are both covered by the same patch and every client instance sees it.
 * `OpenAI.prototype.buildRequest` is also wrapped, only to count the SDK's internal retries.
 */
import type { InstrumentationModuleDefinition } from '@opentelemetry/instrumentation';
import type { ModelwatchInstrumentationConfig } from '../config.js';
import type { CallSpec } from '../stainless-sdk/instrumented-call.js';
import {
  buildRequestTarget,
  StainlessSdkInstrumentation,
  type MethodWrapper,
  type Patchable,
  type PatchTarget,
} from '../stainless-sdk/stainless-instrumentation.js';
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

/** The parts of the `openai` client class this instrumentation touches (all optional: fail open on odd builds). */
type OpenAIClientLike = Patchable & {
  Chat?: { Completions?: Patchable };
  Responses?: Patchable;
  Embeddings?: Patchable;
};

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

export class OpenAIInstrumentation extends StainlessSdkInstrumentation {
  constructor(config: ModelwatchInstrumentationConfig = {}) {
    super(config);
  }

  protected init(): InstrumentationModuleDefinition[] {
    return [this._moduleDefinition('openai', OPENAI_SUPPORTED_VERSIONS)];
  }

  private _getPatchedChatCompletionsCreate(): MethodWrapper {
    return this._getPatchedCreate(CHAT_COMPLETIONS);
  }

  private _getPatchedResponsesCreate(): MethodWrapper {
    return this._getPatchedCreate(RESPONSES);
  }

  private _getPatchedEmbeddingsCreate(): MethodWrapper {
    return this._getPatchedCreate(EMBEDDINGS);
  }

  protected _resourceTargets(moduleExports: unknown): PatchTarget[] {
    const OpenAI = this._clientClass<OpenAIClientLike>(moduleExports, 'openai', 'OpenAI');
    if (!OpenAI) return [];
    return [
      [OpenAI.Chat?.Completions, 'create', this._getPatchedChatCompletionsCreate()],
      [OpenAI.Responses, 'create', this._getPatchedResponsesCreate()],
      [OpenAI.Embeddings, 'create', this._getPatchedEmbeddingsCreate()],
      buildRequestTarget(OpenAI),
    ];
  }
}
