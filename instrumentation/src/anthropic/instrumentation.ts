/**
 * OpenTelemetry instrumentation for `@anthropic-ai/sdk`, 0.30 up to 1.x. One span per call of
 * `messages.create` (JSON and `stream: true`; `messages.stream()` calls it on the same instance, so it is
 * covered too) and `beta.messages.create`.
 *
 * Patches prototypes reachable from the package's main export (`Anthropic.Messages.prototype`, …), so the
 * CommonJS and ESM builds are both covered and every client instance sees it. `Anthropic.prototype
 * .buildRequest` is also wrapped, only to count the SDK's internal retries.
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
  MessageStreamState,
  messageResponseInfo,
  messagesRequestInfo,
  type MessageCreateParamsLike,
} from './messages.js';

/** The supported `@anthropic-ai/sdk` versions; repeated in instrumentation/README.md. */
export const ANTHROPIC_SUPPORTED_VERSIONS = ['>=0.30 <2'];

type AnyMethod = (this: unknown, ...args: unknown[]) => unknown;
interface Patchable {
  prototype: Record<string, AnyMethod>;
}
/** The parts of the `@anthropic-ai/sdk` module this instrumentation touches (all optional: fail open). */
interface AnthropicModuleLike {
  Anthropic?: Patchable & {
    Messages?: Patchable;
    Beta?: { Messages?: Patchable };
  };
}

const MESSAGES: CallSpec<MessageCreateParamsLike> = {
  defaultProvider: 'anthropic',
  requestInfo: messagesRequestInfo,
  responseInfo: messageResponseInfo,
  streamState: (captureContent) => new MessageStreamState(captureContent),
};

export class AnthropicInstrumentation extends InstrumentationBase<ModelwatchInstrumentationConfig> {
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
        '@anthropic-ai/sdk',
        ANTHROPIC_SUPPORTED_VERSIONS,
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
   * the SDK installed under another name (an npm alias such as `anthropic-sdk-v0`), which the hooks cannot match
   * because they match on the package name. Idempotent.
   */
  manuallyInstrument(moduleExports: unknown): void {
    this._patch(moduleExports);
  }

  /** Undoes `manuallyInstrument`. */
  manuallyUninstrument(moduleExports: unknown): void {
    this._unpatch(moduleExports);
  }

  private _getPatchedMessagesCreate(): (original: AnyMethod) => AnyMethod {
    const host = this._host;
    return (original) =>
      function patchedMessagesCreate(this: unknown, ...args: unknown[]): unknown {
        return callInstrumented(host, MESSAGES, original, this, args);
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
    const Anthropic = exports?.Anthropic;
    if (!Anthropic) {
      this._diag.warn('@anthropic-ai/sdk module without an Anthropic export; not instrumented');
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
    add(Anthropic.Messages, 'create', this._getPatchedMessagesCreate());
    add(Anthropic.Beta?.Messages, 'create', this._getPatchedMessagesCreate());
    add(Anthropic, 'buildRequest', (original) => patchBuildRequest(original));
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
function unwrapModule(moduleExports: unknown): AnthropicModuleLike | undefined {
  if (typeof moduleExports !== 'object' && typeof moduleExports !== 'function') return undefined;
  const exports = moduleExports as AnthropicModuleLike & { default?: AnthropicModuleLike };
  if (exports?.Anthropic) return exports;
  return exports?.default;
}
