/**
 * The lifecycle both Stainless-generated SDKs (`openai`, `@anthropic-ai/sdk`) share: config resolution, the
 * host object the patched methods close over, the module definition, manual (un)instrumentation, and
 * (un)wrapping the patch targets. Each SDK's class keeps the contrib shape (constructor, `init()`, one
 * `_getPatched…` factory per wrapped method) and only says which prototypes and methods to wrap.
 *
 * The SDKs' classes are reached from the package's main export (`OpenAI.Chat.Completions.prototype`, …),
 * so the CommonJS and ESM builds are both covered by the same patch and every client instance sees it.
 * `Client.prototype.buildRequest` is also wrapped, only to count the SDK's internal retries, and the
 * module's `APIPromise` class, to see results without parsing them (api-promise-hooks.ts).
 */
import { InstrumentationNodeModuleDefinition, isWrapped } from '@opentelemetry/instrumentation';
import type { TracerProvider } from '@opentelemetry/api';
import { resolveInstrumentationConfig, type ModelwatchInstrumentationConfig } from '../config.js';
import { ModelwatchInstrumentationBase } from '../instrumentation-base.js';
import type { ResolvedInstrumentationConfig } from '../internal-types.js';
import { INSTRUMENTATION_SCOPE } from '../semconv.js';
import { PACKAGE_VERSION } from '../version.js';
import { apiPromiseTargets } from './api-promise-hooks.js';
import { patchBuildRequest } from './attempt-counter.js';
import { callInstrumented, callReaders, type CallHost, type CallSpec } from './instrumented-call.js';

export type AnyMethod = (this: unknown, ...args: unknown[]) => unknown;
export type MethodWrapper = (original: AnyMethod) => AnyMethod;
export interface Patchable {
  prototype: Record<string, AnyMethod>;
}
/** One method to wrap: the class whose prototype holds it (absent in some builds), its name, the wrapper. */
export type PatchTarget = readonly [cls: Patchable | undefined, method: string, wrapper: MethodWrapper];

export abstract class StainlessSdkInstrumentation extends ModelwatchInstrumentationBase {
  // Resolved lazily: the base constructor calls setConfig() before subclass fields exist.
  private _resolvedConfig: ResolvedInstrumentationConfig | undefined;
  /**
   * What the patched methods (plain functions, whose `this` is the SDK resource) close over: plain fields,
   * kept current by the methods that change them (a call reads two fields instead of running getters and
   * the enabled check: each function on the caller's path costs µs when caches are cold).
   */
  private readonly _host: CallHost;

  constructor(config: ModelwatchInstrumentationConfig) {
    super(INSTRUMENTATION_SCOPE, PACKAGE_VERSION, config);
    this._host = { tracer: this.tracer, config: undefined };
    this._refreshHost();
  }

  override setConfig(config: ModelwatchInstrumentationConfig = {}): void {
    super.setConfig(config);
    this._resolvedConfig = undefined;
    this._refreshHost();
  }

  override setTracerProvider(tracerProvider: TracerProvider): void {
    super.setTracerProvider(tracerProvider);
    this._refreshHost();
  }

  override enable(): void {
    super.enable();
    this._refreshHost();
  }

  override disable(): void {
    super.disable();
    this._refreshHost();
  }

  /** The base constructor calls setConfig() and enable() before this class's fields exist: no host yet. */
  private _refreshHost(): void {
    const host = this._host as CallHost | undefined;
    if (host === undefined) return;
    host.tracer = this.tracer;
    host.config = this._activeConfig();
  }

  /**
   * Patches a module object you loaded yourself: for bundlers (no require/import hook), and for a copy of
   * the SDK installed under another name (an npm alias such as `openai-v6` or `anthropic-sdk-v0`), which
   * the hooks cannot match because they match on the package name. Idempotent.
   */
  manuallyInstrument(moduleExports: unknown): void {
    this._patch(moduleExports);
  }

  /** Undoes `manuallyInstrument`. */
  manuallyUninstrument(moduleExports: unknown): void {
    this._unpatch(moduleExports);
  }

  /** What `init()` returns for the SDK's package: patch on load, unpatch on disable. */
  protected _moduleDefinition(
    packageName: string,
    supportedVersions: string[],
  ): InstrumentationNodeModuleDefinition {
    return new InstrumentationNodeModuleDefinition(
      packageName,
      supportedVersions,
      (moduleExports: unknown) => {
        this._patch(moduleExports);
        return moduleExports;
      },
      (moduleExports: unknown) => this._unpatch(moduleExports),
    );
  }

  /** The wrapper for a resource's `create`: one span per call, described by `spec`. */
  protected _getPatchedCreate<Params>(spec: CallSpec<Params>): MethodWrapper {
    const host = this._host;
    const readers = callReaders(spec);
    return (original) =>
      function patchedCreate(this: unknown, ...args: unknown[]): unknown {
        return callInstrumented(host, readers, original, this, args);
      };
  }

  /**
   * The methods to wrap, read from the SDK's client class (the module's main export; see `_clientClass`),
   * `buildRequestTarget(client)` included; those missing in this build are skipped.
   */
  protected abstract _resourceTargets(moduleExports: unknown): PatchTarget[];

  /**
   * The client class exported as `exportName`, looking through `default` too (ESM namespaces from
   * import-in-the-middle or `import * as` carry the CommonJS-style exports there); warns when absent.
   */
  protected _clientClass<Client>(
    moduleExports: unknown,
    packageName: string,
    exportName: string,
  ): Client | undefined {
    const client = exportOf<Client>(moduleExports, exportName);
    if (!client) this._diag.warn(`${packageName} module without an ${exportName} export; not instrumented`);
    return client;
  }

  private _activeConfig(): ResolvedInstrumentationConfig | undefined {
    if (!this.isEnabled()) return undefined;
    this._resolvedConfig ??= resolveInstrumentationConfig(this.getConfig());
    return this._resolvedConfig.enabled ? this._resolvedConfig : undefined;
  }

  /** The patch targets that exist in this build of the SDK, paired with their wrappers. */
  private _targets(moduleExports: unknown): Array<[Patchable['prototype'], string, MethodWrapper]> {
    const targets: Array<[Patchable['prototype'], string, MethodWrapper]> = [];
    const all = [
      ...this._resourceTargets(moduleExports),
      ...apiPromiseTargets(exportOf(moduleExports, 'APIPromise')),
    ];
    for (const [cls, method, wrapper] of all) {
      if (cls && typeof cls.prototype?.[method] === 'function')
        targets.push([cls.prototype, method, wrapper]);
    }
    return targets;
  }

  private _patch(moduleExports: unknown): void {
    for (const [prototype, method, wrapper] of this._targets(moduleExports)) {
      if (isWrapped(prototype[method])) this._unwrap(prototype, method);
      this._wrap(prototype, method, wrapper);
    }
  }

  private _unpatch(moduleExports: unknown): void {
    for (const [prototype, method] of this._targets(moduleExports)) {
      if (isWrapped(prototype[method])) this._unwrap(prototype, method);
    }
  }
}

/** The target that counts the SDK's retries: `buildRequest` on the client class. */
export function buildRequestTarget(client: Patchable): PatchTarget {
  return [client, 'buildRequest', (original) => patchBuildRequest(original)];
}

function exportOf<T>(moduleExports: unknown, exportName: string): T | undefined {
  if (typeof moduleExports !== 'object' && typeof moduleExports !== 'function') return undefined;
  const exports = moduleExports as (Record<string, unknown> & { default?: Record<string, unknown> }) | null;
  if (exports?.[exportName]) return exports[exportName] as T;
  return exports?.default?.[exportName] as T | undefined;
}
