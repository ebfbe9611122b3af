/**
 * Shapes used inside the package only. Users pass `ModelwatchInstrumentationConfig` (config.ts, every field
 * optional); the code works with `ResolvedInstrumentationConfig`, where every default is already applied.
 */
import type { ContentKind, ProviderOverride } from './config.js';

export interface ResolvedInstrumentationConfig {
  enabled: boolean;
  captureMessageContent: boolean;
  redact: ((kind: ContentKind, value: unknown) => unknown) | undefined;
  maxContentLengthBytes: number;
  providerOverride: ProviderOverride | undefined;
}
