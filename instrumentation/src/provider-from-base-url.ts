/**
 * gen_ai.provider.name for OpenAI-compatible clients, from the base URL they were pointed at. The value
 * names the API actually spoken to (the conventions' rule), so the same `openai` SDK talking to Groq
 * reports `groq`.
 */
import type { ResolvedInstrumentationConfig } from './internal-types.js';

// Host suffix → provider. Matched against the URL's host name, most specific first.
const HOST_SUFFIXES: ReadonlyArray<readonly [string, string]> = [
  ['.openai.azure.com', 'azure.ai.openai'],
  ['.cognitiveservices.azure.com', 'azure.ai.openai'],
  ['models.inference.ai.azure.com', 'azure.ai.inference'],
  ['.services.ai.azure.com', 'azure.ai.inference'],
  ['.models.ai.azure.com', 'azure.ai.inference'],
  ['models.github.ai', 'azure.ai.inference'],
  ['api.groq.com', 'groq'],
  ['openrouter.ai', 'openrouter'],
  ['api.together.xyz', 'together_ai'],
  ['api.together.ai', 'together_ai'],
  ['api.deepseek.com', 'deepseek'],
  ['api.x.ai', 'x_ai'],
  ['api.mistral.ai', 'mistral_ai'],
  ['api.fireworks.ai', 'fireworks_ai'],
  ['api.perplexity.ai', 'perplexity'],
  ['api.cohere.ai', 'cohere'],
  ['api.cohere.com', 'cohere'],
  ['generativelanguage.googleapis.com', 'gcp.gemini'],
  ['aiplatform.googleapis.com', 'gcp.vertex_ai'],
  ['api.anthropic.com', 'anthropic'],
  ['api.openai.com', 'openai'],
];
const OLLAMA_PORT = '11434';

function hostMatches(host: string, suffix: string): boolean {
  return suffix.startsWith('.') ? host.endsWith(suffix) : host === suffix || host.endsWith(`.${suffix}`);
}

/** The provider behind an OpenAI-compatible base URL; `defaultProvider` when unknown or unparsable. */
export function providerFromBaseUrl(url: string | undefined, defaultProvider: string): string {
  if (!url) return defaultProvider;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return defaultProvider;
  }
  const host = parsed.hostname.toLowerCase();
  for (const [suffix, provider] of HOST_SUFFIXES) if (hostMatches(host, suffix)) return provider;
  // Ollama's default port; its OpenAI-compatible API lives under /v1 on any host.
  if (parsed.port === OLLAMA_PORT) return 'ollama';
  return defaultProvider;
}

/**
 * The provider name a patcher should record: the user's override (constant, or function of the base URL
 * returning undefined to fall through), else the base-URL table, else the SDK's own provider.
 */
export function resolveProvider(
  config: Pick<ResolvedInstrumentationConfig, 'providerOverride'>,
  defaultProvider: string,
  baseURL?: string,
): string {
  const override = config.providerOverride;
  if (typeof override === 'string') return override;
  if (typeof override === 'function') {
    try {
      const chosen = override(baseURL);
      if (typeof chosen === 'string' && chosen !== '') return chosen;
    } catch {
      // A throwing user callback falls back to detection rather than breaking the call.
    }
  }
  return providerFromBaseUrl(baseURL, defaultProvider);
}
