/**
 * How failure classes (modelwatch.failure.class, see @modelwatch/instrumentation's FAILURE_CLASSES) group
 * into the three answers an incident needs. A test asserts every class named here exists there.
 */
/** The provider's infrastructure or the network between: 429, 529, 5xx, timeouts, dropped connections. */
export const INFRA_FAILURE_CLASSES = [
  'rate_limited',
  'overloaded',
  'server_error',
  'timeout',
  'connection',
] as const;
/** Our own requests: credentials, malformed or oversized requests. */
export const CLIENT_FAILURE_CLASSES = ['auth', 'bad_request', 'context_length'] as const;
/** Classes shown one by one on the Failures dashboard, in the order of the list. */
export const CHARTED_FAILURE_CLASSES = [
  'rate_limited',
  'overloaded',
  'server_error',
  'timeout',
  'connection',
  'auth',
  'bad_request',
  'content_filter',
  'context_length',
] as const;

/** `'a','b'` for SQL IN lists; the values are constants above, never user input. */
export const sqlList = (values: readonly string[]): string => values.map((v) => `'${v}'`).join(', ');
