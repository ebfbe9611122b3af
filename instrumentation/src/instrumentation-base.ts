/**
 * The base of every modelwatch instrumentation: the contrib `InstrumentationBase` lifecycle, plus one
 * thing spans ended off the critical path need (deferred-span-end.ts): the tracer provider the
 * instrumentation is given finishes pending LLM spans before its own forceFlush() / shutdown().
 */
import type { TracerProvider } from '@opentelemetry/api';
import { InstrumentationBase } from '@opentelemetry/instrumentation';
import type { ModelwatchInstrumentationConfig } from './config.js';
import { guardProviderFlush } from './deferred-span-end.js';

export abstract class ModelwatchInstrumentationBase extends InstrumentationBase<ModelwatchInstrumentationConfig> {
  override setTracerProvider(tracerProvider: TracerProvider): void {
    super.setTracerProvider(tracerProvider);
    guardProviderFlush(tracerProvider);
  }
}
