import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import {
  DEFAULT_MAX_CONTENT_LENGTH_BYTES,
  resolveInstrumentationConfig,
  type ModelwatchInstrumentationConfig,
} from '@modelwatch/instrumentation';

function captureWarnings(fn: () => void): string[] {
  const warnings: string[] = [];
  const logger: DiagLogger = {
    error: () => undefined,
    warn: (message: string) => void warnings.push(message),
    info: () => undefined,
    debug: () => undefined,
    verbose: () => undefined,
  };
  diag.setLogger(logger, DiagLogLevel.WARN);
  try {
    fn();
  } finally {
    diag.disable();
  }
  return warnings;
}

describe('resolveInstrumentationConfig', () => {
  it('applies defaults: content capture off, 16 KiB cap, enabled', () => {
    const resolved = resolveInstrumentationConfig({}, {});
    assert.equal(resolved.captureMessageContent, false);
    assert.equal(resolved.maxContentLengthBytes, DEFAULT_MAX_CONTENT_LENGTH_BYTES);
    assert.equal(resolved.maxContentLengthBytes, 16384);
    assert.equal(resolved.enabled, true);
    assert.equal(resolved.redact, undefined);
    assert.equal(resolved.providerOverride, undefined);
  });

  it('reads the OTel content-capture env var, and code config wins over it', () => {
    const env = {
      OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'true',
      MODELWATCH_MAX_CONTENT_LENGTH_BYTES: '100',
    };
    assert.equal(resolveInstrumentationConfig({}, env).captureMessageContent, true);
    assert.equal(resolveInstrumentationConfig({}, env).maxContentLengthBytes, 100);
    assert.equal(
      resolveInstrumentationConfig({ captureMessageContent: false }, env).captureMessageContent,
      false,
    );
  });

  it('reports every invalid field in one warning and falls back to defaults, without throwing', () => {
    const bad = {
      captureMessageContent: 'yes',
      maxContentLengthBytes: -5,
      redact: 'nope',
      providerOverride: 42,
    } as unknown as ModelwatchInstrumentationConfig;
    let resolved: ReturnType<typeof resolveInstrumentationConfig> | undefined;
    const warnings = captureWarnings(() => {
      resolved = resolveInstrumentationConfig(bad, {
        OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'maybe',
      });
    });
    assert.equal(warnings.length, 1);
    for (const field of [
      'captureMessageContent',
      'maxContentLengthBytes',
      'redact',
      'providerOverride',
      'OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT',
    ]) {
      assert.match(warnings[0] ?? '', new RegExp(field));
    }
    assert.equal(resolved?.captureMessageContent, false);
    assert.equal(resolved?.maxContentLengthBytes, 16384);
    assert.equal(resolved?.redact, undefined);
  });
});
