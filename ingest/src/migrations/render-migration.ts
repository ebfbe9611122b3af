/**
 * Renders a migration template for a single server or a cluster, and splits it into statements.
 * Placeholders: {{ON_CLUSTER}}, {{MERGE_TREE}}, {{AGGREGATING_MERGE_TREE}}, {{REPLACING_MERGE_TREE}},
 * {{TRACES_TTL_DAYS}},
 * {{LLM_CALLS_TTL_DAYS}}, {{ROLLUP_TTL_DAYS}}. An unknown placeholder is an error, not silent text.
 */
import { IngestError } from '../errors.js';

export interface RenderOptions {
  /** Cluster name: `ON CLUSTER '<name>'` and Replicated* engines (default replica path from server config). */
  cluster?: string | undefined;
  tracesTtlDays: number;
  llmCallsTtlDays: number;
  rollupTtlDays: number;
}

export function renderMigration(template: string, options: RenderOptions): string {
  const replicated = options.cluster !== undefined;
  const values: Record<string, string> = {
    ON_CLUSTER: replicated ? `ON CLUSTER '${options.cluster}'` : '',
    MERGE_TREE: replicated ? 'ReplicatedMergeTree' : 'MergeTree',
    AGGREGATING_MERGE_TREE: replicated ? 'ReplicatedAggregatingMergeTree' : 'AggregatingMergeTree',
    REPLACING_MERGE_TREE: replicated ? 'ReplicatedReplacingMergeTree' : 'ReplacingMergeTree',
    TRACES_TTL_DAYS: String(options.tracesTtlDays),
    LLM_CALLS_TTL_DAYS: String(options.llmCallsTtlDays),
    ROLLUP_TTL_DAYS: String(options.rollupTtlDays),
  };
  return template.replace(/\{\{([A-Z_]+)\}\}/g, (_, key: string) => {
    const value = values[key];
    if (value === undefined) throw new IngestError('MIGRATION_FAILED', `unknown placeholder {{${key}}}`);
    return value;
  });
}

/** Statements end with `;` at the end of a line; full-line `--` comments are dropped. */
export function splitStatements(sql: string): string[] {
  const withoutComments = sql
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n');
  return withoutComments
    .split(/;[ \t]*(?:\n|$)/)
    .map((statement) => statement.trim())
    .filter((statement) => statement.length > 0);
}
