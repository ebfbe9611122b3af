/**
 * On a ClickHouse server, `clickhouse_settings` apply to one request. chdb's connection runs them as
 * `SET k = v; <statement>` on a long-lived session, so they persist: a later insert without a token would
 * silently inherit the previous insert's `insert_deduplication_token` and be dropped as a duplicate.
 * This wrapper restores per-call semantics: before each statement it resets (`SET k = DEFAULT`) every
 * setting an earlier call set and this call does not.
 *
 * Not reset: `readonly` (ClickHouse refuses to change it in read-only mode; a read-only query therefore
 * leaves an embedded session read-only, which is why `modelwatch query` opens a handle per run), and the
 * HTTP-only settings chdb drops instead of SETting.
 */
const NOT_RESETTABLE =
  /^(readonly|default_format|wait_end_of_query|send_progress_in_http_headers|enable_http_compression|http_\w+)$/;
const METHODS_WITH_SETTINGS = new Set(['query', 'exec', 'command', 'insert']);

interface StatementParams {
  query: string;
  clickhouse_settings?: Record<string, unknown>;
}

export function withPerCallSettings<C extends object>(connection: C): C {
  const sticky = new Set<string>();
  return new Proxy(connection, {
    get(target, property) {
      // The target as receiver: getters that read private fields (chdb's `.chdb`) must run on the real object.
      const value: unknown = Reflect.get(target, property, target);
      if (
        typeof property !== 'string' ||
        !METHODS_WITH_SETTINGS.has(property) ||
        typeof value !== 'function'
      ) {
        return typeof value === 'function' ? value.bind(target) : value;
      }
      return (params: StatementParams, ...rest: unknown[]) => {
        const settings = params.clickhouse_settings ?? {};
        const resets = [...sticky]
          .filter((key) => settings[key] === undefined)
          .map((key) => `SET ${key} = DEFAULT`);
        sticky.clear();
        for (const [key, setting] of Object.entries(settings)) {
          if (setting !== undefined && !NOT_RESETTABLE.test(key)) sticky.add(key);
        }
        const query = resets.length === 0 ? params.query : `${resets.join('; ')}; ${params.query}`;
        return (value as (...args: unknown[]) => unknown).call(target, { ...params, query }, ...rest);
      };
    },
  });
}
