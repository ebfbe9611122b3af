/**
 * Row shapes written to ClickHouse, column for column (see migrations/0001 and 0003). Timestamps are
 * nanoseconds since the epoch as decimal strings: DateTime64(9) does not fit a JS number, and
 * JSONEachRow accepts the string form.
 */
export type NanosString = string;

export interface OtelTraceRow {
  Timestamp: NanosString;
  TraceId: string;
  SpanId: string;
  ParentSpanId: string;
  TraceState: string;
  SpanName: string;
  /** 'Unspecified' | 'Internal' | 'Server' | 'Client' | 'Producer' | 'Consumer' (the Collector's strings). */
  SpanKind: string;
  ServiceName: string;
  ResourceAttributes: Record<string, string>;
  ScopeName: string;
  ScopeVersion: string;
  SpanAttributes: Record<string, string>;
  /** Nanoseconds. */
  Duration: string;
  /** 'Unset' | 'Ok' | 'Error'. */
  StatusCode: string;
  StatusMessage: string;
  'Events.Timestamp': NanosString[];
  'Events.Name': string[];
  'Events.Attributes': Record<string, string>[];
  'Links.TraceId': string[];
  'Links.SpanId': string[];
  'Links.TraceState': string[];
  'Links.Attributes': Record<string, string>[];
}

export interface LlmCallRow {
  Timestamp: NanosString;
  TraceId: string;
  SpanId: string;
  ServiceName: string;
  Environment: string;
  Provider: string;
  Operation: string;
  RequestModel: string;
  ResponseModel: string;
  ModelFamily: string;
  ModelVersion: string;
  ModelSnapshot: string;
  StatusCode: string;
  IsFailure: 0 | 1;
  FailureClass: string;
  FailureOrigin: string;
  ErrorType: string;
  HttpStatus: number;
  DurationMs: number;
  TimeToFirstTokenMs: number;
  InputTokens: number;
  OutputTokens: number;
  CacheReadInputTokens: number;
  CacheWriteInputTokens: number;
  ReasoningOutputTokens: number;
  FinishReasons: string[];
  Stream: 0 | 1;
  RetryCount: number;
  ProviderRequestId: string;
  ServerAddress: string;
  ScopeName: string;
}
