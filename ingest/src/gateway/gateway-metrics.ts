/**
 * The gateway's Prometheus metrics, exposed as text format 0.0.4 on GET /metrics. Hand-written on purpose:
 * a handful of counters and one histogram do not justify a metrics dependency (prom-client) in the hot path.
 */

/** Why a request was not accepted; the `reason` label of modelwatch_gateway_rejected_requests_total. */
export type RejectReason =
  | 'unauthorized'
  | 'unsupported_media_type'
  | 'too_large'
  | 'decode_failed'
  | 'invalid'
  | 'kafka_unavailable'
  | 'not_found'
  | 'method_not_allowed'
  | 'internal';

/** Seconds; Kafka acks on loopback take ~1-10 ms, an outage runs into the publish timeout. */
const PUBLISH_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

export class GatewayMetrics {
  private readonly requestsByStatus = new Map<number, number>();
  private readonly rejectsByReason = new Map<RejectReason, number>();
  private spans = 0;
  private records = 0;
  private bodyBytes = 0;
  private wireBytes = 0;
  private readonly publishBucketCounts = new Array<number>(PUBLISH_BUCKETS_S.length).fill(0);
  private publishCount = 0;
  private publishSumS = 0;

  request(status: number): void {
    this.requestsByStatus.set(status, (this.requestsByStatus.get(status) ?? 0) + 1);
  }

  reject(reason: RejectReason): void {
    this.rejectsByReason.set(reason, (this.rejectsByReason.get(reason) ?? 0) + 1);
  }

  accepted(spans: number, records: number, bodyBytes: number, wireBytes: number): void {
    this.spans += spans;
    this.records += records;
    this.bodyBytes += bodyBytes;
    this.wireBytes += wireBytes;
  }

  /** One publish (whatever its outcome), in seconds. */
  publishDuration(seconds: number): void {
    this.publishCount++;
    this.publishSumS += seconds;
    for (let i = 0; i < PUBLISH_BUCKETS_S.length; i++) {
      if (seconds <= PUBLISH_BUCKETS_S[i]!) this.publishBucketCounts[i]!++;
    }
  }

  render(kafkaConnected: boolean): string {
    const lines: string[] = [];
    const metric = (name: string, type: string, help: string): void => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    };
    metric('modelwatch_gateway_requests_total', 'counter', 'OTLP/HTTP requests answered, by HTTP status.');
    for (const [status, count] of [...this.requestsByStatus].sort((a, b) => a[0] - b[0])) {
      lines.push(`modelwatch_gateway_requests_total{status="${status}"} ${count}`);
    }
    metric('modelwatch_gateway_rejected_requests_total', 'counter', 'Requests not accepted, by reason.');
    for (const [reason, count] of [...this.rejectsByReason].sort((a, b) => a[0].localeCompare(b[0]))) {
      lines.push(`modelwatch_gateway_rejected_requests_total{reason="${reason}"} ${count}`);
    }
    metric('modelwatch_gateway_spans_total', 'counter', 'Spans acknowledged by Kafka.');
    lines.push(`modelwatch_gateway_spans_total ${this.spans}`);
    metric(
      'modelwatch_gateway_kafka_records_total',
      'counter',
      'Kafka records acknowledged (one per trace per request).',
    );
    lines.push(`modelwatch_gateway_kafka_records_total ${this.records}`);
    metric(
      'modelwatch_gateway_received_bytes_total',
      'counter',
      'Accepted request bytes as received (before decompression).',
    );
    lines.push(`modelwatch_gateway_received_bytes_total ${this.wireBytes}`);
    metric(
      'modelwatch_gateway_decompressed_bytes_total',
      'counter',
      'Accepted request bytes after decompression.',
    );
    lines.push(`modelwatch_gateway_decompressed_bytes_total ${this.bodyBytes}`);
    metric(
      'modelwatch_gateway_kafka_publish_duration_seconds',
      'histogram',
      'Time from publish to Kafka acknowledgement or failure.',
    );
    PUBLISH_BUCKETS_S.forEach((le, i) => {
      lines.push(
        `modelwatch_gateway_kafka_publish_duration_seconds_bucket{le="${le}"} ${this.publishBucketCounts[i]}`,
      );
    });
    lines.push(`modelwatch_gateway_kafka_publish_duration_seconds_bucket{le="+Inf"} ${this.publishCount}`);
    lines.push(`modelwatch_gateway_kafka_publish_duration_seconds_sum ${this.publishSumS}`);
    lines.push(`modelwatch_gateway_kafka_publish_duration_seconds_count ${this.publishCount}`);
    metric(
      'modelwatch_gateway_kafka_connected',
      'gauge',
      '1 while the Kafka producer is connected and publishing.',
    );
    lines.push(`modelwatch_gateway_kafka_connected ${kafkaConnected ? 1 : 0}`);
    return `${lines.join('\n')}\n`;
  }
}
