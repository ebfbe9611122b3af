/** SQL the demo runs to prove the pipeline: rows written for this run, found by the run id resource attribute. */
import type { ClickHouseHandle } from '../clickhouse/client.js';
import { toIngestError } from '../clickhouse/errors.js';
import { TABLE_LLM_CALLS, TABLE_OTEL_TRACES } from '../names.js';

/** Resource attribute that tags every span of one demo run (so re-runs never mix). */
export const DEMO_RUN_ID_ATTRIBUTE = 'modelwatch.demo.run_id';
export const DEMO_ENVIRONMENT = 'demo';

/** llm_calls rows of one run: joined through otel_traces, whose ResourceAttributes carry the run id. */
export async function countRunRows(ch: ClickHouseHandle, runId: string, fromMs: number): Promise<number> {
  try {
    const result = await ch.client.query({
      query: `SELECT count() AS rows FROM ${TABLE_LLM_CALLS}
WHERE Timestamp >= fromUnixTimestamp64Milli({fromMs:Int64})
  AND TraceId IN (
    SELECT TraceId FROM ${TABLE_OTEL_TRACES}
    WHERE Timestamp >= fromUnixTimestamp64Milli({fromMs:Int64}) AND ResourceAttributes[{attr:String}] = {runId:String})`,
      query_params: { fromMs: fromMs - 60_000, attr: DEMO_RUN_ID_ATTRIBUTE, runId },
      format: 'JSONEachRow',
    });
    const [row] = await result.json<{ rows: string | number }>();
    return Number(row?.rows ?? 0);
  } catch (error) {
    throw toIngestError(error, 'demo: counting the rows of this run');
  }
}

/** Spans the gateway has had acknowledged by Kafka, from its Prometheus endpoint. */
export async function gatewayAcceptedSpans(gatewayUrl: string): Promise<number> {
  const response = await fetch(`${gatewayUrl}/metrics`);
  const text = await response.text();
  const match = /^modelwatch_gateway_spans_total (\d+)/m.exec(text);
  return match ? Number(match[1]) : 0;
}
