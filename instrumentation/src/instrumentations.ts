/** The SDK instrumentations register() installs, one per supported LLM SDK. */
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { AnthropicInstrumentation } from './anthropic/instrumentation.js';
import { BedrockRuntimeInstrumentation } from './bedrock/instrumentation.js';
import type { ModelwatchInstrumentationConfig } from './config.js';
import { GoogleGenAIInstrumentation } from './google-genai/instrumentation.js';
import { OpenAIInstrumentation } from './openai/instrumentation.js';

export function getModelwatchInstrumentations(
  config: ModelwatchInstrumentationConfig = {},
): Instrumentation[] {
  return [
    new OpenAIInstrumentation(config),
    new AnthropicInstrumentation(config),
    new GoogleGenAIInstrumentation(config),
    new BedrockRuntimeInstrumentation(config),
  ];
}
