/**
 * A BatchSpanProcessor with a bounded queue whose drops are counted and reported.
 *
 * Why a wrapper: in sdk-trace 3.x the BatchSpanProcessor keeps its drop count private, logs the first drop
 * only at debug level, and resets the count whenever it warns — there is no way to read "how many spans did
 * we lose". So this class enforces the bound itself, with the same accounting the inner processor uses (a
 * span leaves the queue when it is handed to the exporter), and only forwards spans that fit: the inner
 * processor then never drops, and every loss is counted here and warned about once.
 */
import { diag, TraceFlags, type Context } from '@opentelemetry/api';
import type { ExportResult } from '@opentelemetry/core';
import {
  BatchSpanProcessor,
  type ReadableSpan,
  type Span,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';

export interface DropCountingBatchOptions {
  /** Spans waiting for export at most; further spans are dropped (and counted). @default 2048 */
  maxQueueSize?: number;
  /** @default 512 (capped at maxQueueSize) */
  maxExportBatchSize?: number;
  /** Delay between scheduled exports. @default 2000 */
  scheduledDelayMs?: number;
  /** How long one export may take before it is abandoned. @default 5000 */
  exportTimeoutMs?: number;
}

export class DropCountingBatchSpanProcessor implements SpanProcessor {
  private readonly inner: BatchSpanProcessor;
  private readonly maxQueueSize: number;
  private queued = 0;
  private dropped = 0;

  constructor(exporter: SpanExporter, options: DropCountingBatchOptions = {}) {
    this.maxQueueSize = options.maxQueueSize ?? 2048;
    const counting: SpanExporter = {
      export: (spans: ReadableSpan[], done: (result: ExportResult) => void) => {
        this.queued = Math.max(0, this.queued - spans.length);
        exporter.export(spans, done);
      },
      shutdown: () => exporter.shutdown(),
      forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
    };
    this.inner = new BatchSpanProcessor({
      exporter: counting,
      maxQueueSize: this.maxQueueSize,
      maxExportBatchSize: Math.min(options.maxExportBatchSize ?? 512, this.maxQueueSize),
      scheduledDelayMillis: options.scheduledDelayMs ?? 2000,
      exportTimeoutMillis: options.exportTimeoutMs ?? 5000,
    });
  }

  /** Spans dropped because the queue was full, since start. */
  get droppedSpans(): number {
    return this.dropped;
  }

  onStart(span: Span, parentContext: Context): void {
    this.inner.onStart(span, parentContext);
  }

  onEnd(span: ReadableSpan): void {
    // Unsampled spans are ignored by the inner processor and never occupy the queue.
    if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    if (this.queued >= this.maxQueueSize) {
      this.dropped++;
      if (this.dropped === 1) {
        diag.warn(
          `modelwatch: span export queue full (maxQueueSize=${this.maxQueueSize}); dropping spans until the exporter catches up. ` +
            'Is the OTLP endpoint reachable?',
        );
      }
      return;
    }
    this.queued++;
    this.inner.onEnd(span);
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }

  shutdown(): Promise<void> {
    if (this.dropped > 0)
      diag.warn(`modelwatch: ${this.dropped} spans were dropped because the export queue was full`);
    return this.inner.shutdown();
  }
}
