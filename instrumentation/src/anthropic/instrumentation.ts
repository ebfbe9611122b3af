/**
 * OpenTelemetry instrumentation for `@anthropic-ai/sdk`, 0.30 up to 1.x. One span per call of
 * `messages.create` (JSON and `stream: true`; `messages.stream()` calls it on the same instance, so it is
 * covered too) and `beta.messages.create`.
 *
 * Patches prototypes reachable from the package's main export (`Anthropic.Messages.prototype`, …), so the
 * CommonJS and ESM builds are both covered and every client instance sees it. `Anthropic.prototype
 * .buildRequest` is also wrapped, only to count the SDK's internal retries.
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
  MessageStreamState,
  messageResponseInfo,
  messagesRequestInfo,
  type MessageCreateParamsLike,
} from './messages.js';

/** The supported `@anthropic-ai/sdk` versions; repeated in instrumentation/README.md. */
export const ANTHROPIC_SUPPORTED_VERSIONS = ['>=0.30 <2'];

/** The parts of the `@anthropic-ai/sdk` client class this instrumentation touches (all optional: fail open). */
type AnthropicClientLike = Patchable & {
  Messages?: Patchable;
  Beta?: { Messages?: Patchable };
};

const MESSAGES: CallSpec<MessageCreateParamsLike> = {
  defaultProvider: 'anthropic',
  requestInfo: messagesRequestInfo,
  responseInfo: messageResponseInfo,
  streamState: (captureContent) => new MessageStreamState(captureContent),
};

export class AnthropicInstrumentation extends StainlessSdkInstrumentation {
  constructor(config: ModelwatchInstrumentationConfig = {}) {
    super(config);
  }

  protected init(): InstrumentationModuleDefinition[] {
    return [this._moduleDefinition('@anthropic-ai/sdk', ANTHROPIC_SUPPORTED_VERSIONS)];
  }

  private _getPatchedMessagesCreate(): MethodWrapper {
    return this._getPatchedCreate(MESSAGES);
  }

  protected _resourceTargets(moduleExports: unknown): PatchTarget[] {
    const Anthropic = this._clientClass<AnthropicClientLike>(moduleExports, '@anthropic-ai/sdk', 'Anthropic');
    if (!Anthropic) return [];
    return [
      [Anthropic.Messages, 'create', this._getPatchedMessagesCreate()],
      [Anthropic.Beta?.Messages, 'create', this._getPatchedMessagesCreate()],
      buildRequestTarget(Anthropic),
    ];
  }
}
