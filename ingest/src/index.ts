/** Public API of @modelwatch/ingest (re-exports only). The `modelwatch` binary is bin/modelwatch.js. */
export * from './names.js';
export { IngestError, isRetriable, errorMessage, type IngestErrorCode } from './errors.js';
export { createLogger, silentLogger, type Logger, type LogLevel } from './log.js';
export type { LlmCallRow, OtelTraceRow } from './clickhouse/rows.js';

// ClickHouse (server or embedded engine) and migrations
export { openClickHouse, redactUrl, type ClickHouseHandle } from './clickhouse/client.js';
export { clickHouseConfigFromEnv, type ClickHouseConfig } from './clickhouse/config.js';
export {
  runMigrations,
  type RunMigrationsOptions,
  type MigrationReport,
  type MigrationOutcome,
} from './migrations/run-migrations.js';

// Gateway and consumer
export { startGateway, type RunningGateway } from './gateway/start-gateway.js';
export { gatewayConfigFromEnv, type GatewayConfig } from './gateway/config.js';
export {
  startConsumer,
  type RunningConsumer,
  type ConsumerStats,
  type StartConsumerOptions,
} from './consumer/run-consumer.js';
export { consumerConfigFromEnv, type ConsumerConfig } from './consumer/config.js';

// Local Kafka broker (no Docker)
export {
  startLocalKafka,
  type LocalKafka,
  type StartLocalKafkaOptions,
} from './kafka/local-broker/local-broker.js';
export {
  runKafkaStart,
  runKafkaStop,
  runKafkaFetch,
  type KafkaCommandOptions,
} from './kafka/local-broker/kafka-cli.js';

// Provider simulators
export { startOpenAISimulator } from './simulators/openai-server.js';
export { startAnthropicSimulator } from './simulators/anthropic-server.js';
export type { Reply, RespondFn, Simulator, SimulatedRequest, SimulatorOptions } from './simulators/reply.js';

// Report, query, demo
export { runReport, modelFilter, type Report, type ReportOptions } from './report/run-report.js';
export {
  resolveWindows,
  parseDurationMs,
  defaultBucketMs,
  type WindowFlags,
} from './report/report-window.js';
export {
  assess,
  type Assessment,
  type ProviderVerdict,
  type ClientVerdict,
  type VersionAssessment,
  type Signal,
} from './report/verdict.js';
export { DEFAULT_RULES, type DegradationRules } from './report/degradation-rules.js';
export { renderReportTable, renderReportJson } from './report/render-report.js';
export type { VersionStats, VersionKey, TimeWindow, ReportFilters } from './report/types.js';
export { runQuery, type QueryOptions, type QueryResult, type QueryFormat } from './query/run-query.js';
export { formatQueryResult } from './query/format-result.js';
export { parseQueryParams } from './query/query-params.js';
export {
  loadScenarioFile,
  parseScenario,
  parseScenarioText,
  ScenarioSchema,
  type Scenario,
} from './demo/scenario.js';
export { runTraffic, type TrafficOptions, type TrafficResult } from './demo/traffic.js';
export { runDemo, DEFAULT_SCENARIO_PATH, type DemoOptions, type DemoResult } from './demo/run-demo.js';

// CLI
export { runCli } from './cli/main.js';
export { EXIT_CODE_BY_ERROR, exitCodeFor } from './cli/exit-codes.js';
