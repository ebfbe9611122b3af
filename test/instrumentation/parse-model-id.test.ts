import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseModelId } from '@modelwatch/instrumentation';

// [id, family, version, snapshot, vendor]
const CASES: ReadonlyArray<readonly [string, string, string, string, string]> = [
  // Anthropic, old and new naming; dateless ids can be pins (4.6 generation onward), -latest is an alias.
  ['claude-opus-4-7', 'claude-opus', '4.7', '', 'anthropic'],
  ['claude-3-5-sonnet-20241022', 'claude-sonnet', '3.5', '20241022', 'anthropic'],
  ['claude-sonnet-4-20250514', 'claude-sonnet', '4', '20250514', 'anthropic'],
  ['claude-3-opus-latest', 'claude-opus', '3', '', 'anthropic'],
  ['claude-opus-4-1-20250805', 'claude-opus', '4.1', '20250805', 'anthropic'],
  ['claude-haiku-4-5', 'claude-haiku', '4.5', '', 'anthropic'],
  ['claude-3-7-sonnet-latest', 'claude-sonnet', '3.7', '', 'anthropic'],
  ['claude-2.1', 'claude', '2.1', '', 'anthropic'],
  // Vertex pins with '@'
  ['claude-sonnet-4@20250514', 'claude-sonnet', '4', '20250514', 'anthropic'],
  ['claude-3-5-sonnet-v2@20241022', 'claude-sonnet', '3.5', '20241022', 'anthropic'],
  // OpenAI: family = product line, version = generation
  ['gpt-4o-2024-08-06', 'gpt-4o', '4o', '2024-08-06', 'openai'],
  ['gpt-4o-mini', 'gpt-4o-mini', '4o', '', 'openai'],
  ['gpt-4.1-mini', 'gpt-4.1-mini', '4.1', '', 'openai'],
  ['gpt-3.5-turbo-0125', 'gpt-3.5-turbo', '3.5', '0125', 'openai'],
  ['gpt-4-1106-preview', 'gpt-4', '4', '1106-preview', 'openai'],
  ['gpt-5', 'gpt-5', '5', '', 'openai'],
  ['o1-mini', 'o1-mini', 'o1', '', 'openai'],
  ['o3', 'o3', 'o3', '', 'openai'],
  ['o4-mini-2025-04-16', 'o4-mini', 'o4', '2025-04-16', 'openai'],
  ['GPT-4O', 'gpt-4o', '4o', '', 'openai'],
  ['chatgpt-4o-latest', 'chatgpt-4o', '4o', '', 'openai'],
  ['text-embedding-3-small', 'text-embedding-small', '3', '', 'openai'],
  ['gpt-oss-120b', 'gpt-oss-120b', '', '', 'openai'],
  // Google
  ['gemini-1.5-flash-002', 'gemini-flash', '1.5', '002', 'google'],
  ['models/gemini-2.5-pro', 'gemini-pro', '2.5', '', 'google'],
  ['gemini-2.0-flash-lite', 'gemini-flash-lite', '2.0', '', 'google'],
  ['gemini-2.5-flash-preview-05-20', 'gemini-flash', '2.5', 'preview-05-20', 'google'],
  ['gemini-2.0-flash-exp', 'gemini-flash', '2.0', 'exp', 'google'],
  ['gemini-1.5-pro-latest', 'gemini-pro', '1.5', '', 'google'],
  ['publishers/google/models/gemini-1.5-pro-002', 'gemini-pro', '1.5', '002', 'google'],
  ['gemma-3-27b-it', 'gemma-27b-it', '3', '', 'google'],
  // Bedrock: region prefixes, vendor prefixes, revisions, ARNs
  ['us.anthropic.claude-sonnet-4-20250514-v1:0', 'claude-sonnet', '4', '20250514', 'anthropic'],
  ['anthropic.claude-3-5-sonnet-20240620-v1:0', 'claude-sonnet', '3.5', '20240620', 'anthropic'],
  ['eu.anthropic.claude-3-7-sonnet-20250219-v1:0', 'claude-sonnet', '3.7', '20250219', 'anthropic'],
  ['global.anthropic.claude-opus-4-5-20251101-v1:0', 'claude-opus', '4.5', '20251101', 'anthropic'],
  ['anthropic.claude-3-sonnet-20240229-v1:0:200k', 'claude-sonnet', '3', '20240229', 'anthropic'],
  [
    'arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0',
    'claude-haiku',
    '3',
    '20240307',
    'anthropic',
  ],
  [
    'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-sonnet-20240620-v1:0',
    'claude-sonnet',
    '3.5',
    '20240620',
    'anthropic',
  ],
  ['meta.llama3-1-70b-instruct-v1:0', 'llama-70b-instruct', '3.1', '', 'meta'],
  ['amazon.nova-pro-v1:0', 'nova-pro', '1', '', 'amazon'],
  ['apac.amazon.nova-lite-v1:0', 'nova-lite', '1', '', 'amazon'],
  ['amazon.titan-text-express-v1', 'titan-text-express', '1', '', 'amazon'],
  ['mistral.mistral-large-2407-v1:0', 'mistral-large', '2407', '2407', 'mistral'],
  ['cohere.command-r-plus-v1:0', 'command-r-plus', '', '', 'cohere'],
  ['openai.gpt-oss-120b-1:0', 'gpt-oss-120b', '', '', 'openai'],
  // OpenRouter / HF style
  ['anthropic/claude-3.5-sonnet', 'claude-sonnet', '3.5', '', 'anthropic'],
  ['openai/gpt-4o', 'gpt-4o', '4o', '', 'openai'],
  ['anthropic/claude-3.5-sonnet:beta', 'claude-sonnet', '3.5', '', 'anthropic'],
  ['meta-llama/llama-3.1-8b-instruct', 'llama-8b-instruct', '3.1', '', 'meta'],
  // Mistral / Cohere: date-versioned
  ['mistral-large-2411', 'mistral-large', '2411', '2411', 'mistral'],
  ['mistral-small-latest', 'mistral-small', '', '', 'mistral'],
  ['codestral-2501', 'codestral', '2501', '2501', 'mistral'],
  ['command-r-plus-08-2024', 'command-r-plus', '08-2024', '08-2024', 'cohere'],
  ['command-a-03-2025', 'command-a', '03-2025', '03-2025', 'cohere'],
  // Others
  ['llama-3.3-70b-versatile', 'llama-70b-versatile', '3.3', '', 'meta'],
  ['llama3.2:3b', 'llama-3b', '3.2', '', 'meta'],
  ['qwen2.5-72b-instruct', 'qwen-72b-instruct', '2.5', '', 'qwen'],
  ['deepseek-chat', 'deepseek-chat', '', '', 'deepseek'],
  ['deepseek-v3', 'deepseek', '3', '', 'deepseek'],
  ['grok-3-mini', 'grok-mini', '3', '', 'xai'],
  // Unknown ids never fail
  ['my-azure-deployment', 'my-azure-deployment', '', '', ''],
  ['  Some Weird Model  ', 'some weird model', '', '', ''],
];

describe('parseModelId', () => {
  for (const [id, family, version, snapshot, vendor] of CASES) {
    it(`parses ${JSON.stringify(id)}`, () => {
      const parsed = parseModelId(id);
      assert.deepEqual(
        { family: parsed.family, version: parsed.version, snapshot: parsed.snapshot, vendor: parsed.vendor },
        { family, version, snapshot, vendor },
      );
    });
  }

  it('has a table of at least 40 ids', () => assert.ok(CASES.length >= 40));

  it('normalises routing wrappers away so one model has one id', () => {
    assert.equal(
      parseModelId('us.anthropic.claude-sonnet-4-20250514-v1:0').normalizedId,
      'claude-sonnet-4-20250514',
    );
    assert.equal(parseModelId('claude-sonnet-4@20250514').normalizedId, 'claude-sonnet-4-20250514');
    assert.equal(parseModelId('models/gemini-2.5-pro').normalizedId, 'gemini-2.5-pro');
    assert.equal(parseModelId('GPT-4O').normalizedId, 'gpt-4o');
  });

  it('parses fine-tunes as their base model and keeps the full id', () => {
    const parsed = parseModelId('ft:gpt-4o-mini-2024-07-18:acme:support-bot:AbC123');
    assert.equal(parsed.family, 'gpt-4o-mini');
    assert.equal(parsed.version, '4o');
    assert.equal(parsed.snapshot, '2024-07-18');
    assert.equal(parsed.fineTuned, true);
    assert.equal(parsed.normalizedId, 'ft:gpt-4o-mini-2024-07-18:acme:support-bot:abc123');
    assert.equal(parseModelId('gpt-4o-mini').fineTuned, undefined);
  });

  it('returns empty fields for empty or missing ids', () => {
    for (const id of ['', '   ', undefined, null]) {
      assert.deepEqual(parseModelId(id), {
        family: '',
        version: '',
        snapshot: '',
        vendor: '',
        normalizedId: '',
      });
    }
  });

  it('uses the provider hint for the vendor of otherwise unknown ids', () => {
    assert.equal(parseModelId('my-deployment', 'azure.ai.openai').vendor, 'openai');
    assert.equal(parseModelId('my-deployment', 'groq').vendor, '');
  });

  it('never throws on hostile input', () => {
    const inputs: unknown[] = [
      42,
      {},
      'arn:',
      'ft:',
      '/',
      '-',
      '--20240101',
      'a'.repeat(10_000),
      'models/',
      'us.anthropic.',
    ];
    for (const input of inputs) assert.doesNotThrow(() => parseModelId(input as string));
  });

  it('is memoised per provider hint, yet every caller gets its own object', () => {
    const first = parseModelId('gpt-4o-2024-08-06', 'openai');
    first.family = 'changed by the caller';
    const second = parseModelId('gpt-4o-2024-08-06', 'openai');
    assert.notEqual(second, first);
    assert.equal(second.family, 'gpt-4o');
    // The hint is part of the key: the same id under another provider is parsed on its own.
    assert.equal(parseModelId('my-deployment', 'azure.ai.openai').vendor, 'openai');
    assert.equal(parseModelId('my-deployment', 'groq').vendor, '');
    assert.equal(parseModelId('my-deployment').vendor, '');
  });

  it('stays correct past its memo bound (the memo is dropped, not grown)', () => {
    for (let i = 0; i < 1500; i++)
      assert.equal(
        parseModelId(`claude-opus-4-${i % 10}-2025${String(i).padStart(4, '0')}`).family,
        'claude-opus',
      );
    assert.deepEqual(parseModelId('claude-3-5-sonnet-20241022'), {
      family: 'claude-sonnet',
      version: '3.5',
      snapshot: '20241022',
      vendor: 'anthropic',
      normalizedId: 'claude-3-5-sonnet-20241022',
    });
  });
});
