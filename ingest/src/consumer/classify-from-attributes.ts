/**
 * Failure class and origin for a failed LLM span that does not carry modelwatch.failure.* (spans from other
 * GenAI instrumentations, or via the Collector). Rather than a second taxonomy, the span's facts are put
 * back into the error-like shape the instrumentation's classifyFailure reads: `error.type` is an SDK class
 * name (RateLimitError), a provider code (overloaded_error, context_length_exceeded), an AWS exception name
 * or a socket code, so it is offered both as `name` and as `code`; the HTTP status and message follow.
 */
import { classifyFailure, type FailureClass, type FailureOrigin } from '@modelwatch/instrumentation';

export interface FailureFacts {
  /** error.type, or the exception event's exception.type; '' when absent. */
  errorType: string;
  /** http.response.status_code; 0 when absent. */
  httpStatus: number;
  /** Span status message and/or exception message. */
  message: string;
}

export interface Classified {
  failureClass: FailureClass;
  failureOrigin: FailureOrigin;
}

const NUMERIC_STATUS = /^[1-5]\d\d$/;

export function classifyFromAttributes(facts: FailureFacts): Classified {
  // The HTTP semconv allows the status code itself as error.type ("429") when nothing better is known.
  const status =
    facts.httpStatus > 0
      ? facts.httpStatus
      : NUMERIC_STATUS.test(facts.errorType)
        ? Number(facts.errorType)
        : undefined;
  const errorLike = {
    name: facts.errorType === '_OTHER' ? '' : facts.errorType,
    code: facts.errorType === '_OTHER' ? undefined : facts.errorType,
    status,
    message: facts.message,
  };
  const { failureClass, origin } = classifyFailure(errorLike);
  return { failureClass, failureOrigin: origin };
}
