import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  providerFromBaseUrl,
  resolveInstrumentationConfig,
  resolveProvider,
} from '@modelwatch/instrumentation';

const CASES: ReadonlyArray<readonly [string | undefined, string]> = [
  ['https://my-resource.openai.azure.com/openai/deployments/gpt4o', 'azure.ai.openai'],
  ['https://my-hub.services.ai.azure.com/models', 'azure.ai.inference'],
  ['https://models.inference.ai.azure.com', 'azure.ai.inference'],
  ['https://api.groq.com/openai/v1', 'groq'],
  ['https://openrouter.ai/api/v1', 'openrouter'],
  ['https://api.together.xyz/v1', 'together_ai'],
  ['https://api.deepseek.com', 'deepseek'],
  ['https://api.x.ai/v1', 'x_ai'],
  ['https://api.mistral.ai/v1', 'mistral_ai'],
  ['https://api.fireworks.ai/inference/v1', 'fireworks_ai'],
  ['https://api.perplexity.ai', 'perplexity'],
  ['http://localhost:11434/v1', 'ollama'],
  ['http://gpu-box.internal:11434/v1', 'ollama'],
  ['https://API.OPENAI.COM/v1', 'openai'],
  ['https://api.openai.com/v1', 'openai'],
  ['https://llm-gateway.example.com/v1', 'openai'],
  ['http://127.0.0.1:8080', 'openai'],
  ['not a url', 'openai'],
  ['', 'openai'],
  [undefined, 'openai'],
  // Look-alike hosts must not match by substring.
  ['https://api.groq.com.evil.example/v1', 'openai'],
];

describe('providerFromBaseUrl', () => {
  for (const [url, expected] of CASES) {
    it(`${String(url)} → ${expected}`, () => assert.equal(providerFromBaseUrl(url, 'openai'), expected));
  }
  it('keeps the default for other SDKs', () =>
    assert.equal(providerFromBaseUrl('https://proxy.example.com', 'anthropic'), 'anthropic'));
});

describe('resolveProvider', () => {
  it('prefers a constant override', () => {
    const config = resolveInstrumentationConfig({ providerOverride: 'my_gateway' }, {});
    assert.equal(resolveProvider(config, 'openai', 'https://api.groq.com/openai/v1'), 'my_gateway');
  });
  it('lets a function override decide, falling back to the host table on undefined', () => {
    const config = resolveInstrumentationConfig(
      { providerOverride: (url) => (url?.includes('gateway.acme') ? 'acme' : undefined) },
      {},
    );
    assert.equal(resolveProvider(config, 'openai', 'https://gateway.acme.dev/v1'), 'acme');
    assert.equal(resolveProvider(config, 'openai', 'https://api.groq.com/openai/v1'), 'groq');
  });
  it('survives a throwing override', () => {
    const config = resolveInstrumentationConfig(
      {
        providerOverride: () => {
          throw new Error('bug');
        },
      },
      {},
    );
    assert.equal(resolveProvider(config, 'openai', 'https://api.x.ai/v1'), 'x_ai');
  });
});
