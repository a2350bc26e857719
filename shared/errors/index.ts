/**
 * One error hierarchy for the whole app. Service errors (Graph, Exchange, Storage) are kept apart
 * from our own validation errors so callers can tell "the tenant said no" from "we were given
 * nonsense". No message built here may contain a secret: callers pass redacted text only.
 */
export class AuditWardenError extends Error {
  override readonly name: string = 'AuditWardenError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Settings, policy file, queue message or HTTP input that does not match its schema. */
export class ValidationError extends AuditWardenError {
  override readonly name = 'ValidationError';
  constructor(
    message: string,
    /** Where the bad value came from, e.g. "settings", "policy file /x/policy.json", "queue message". */
    readonly source: string,
    /** Human-readable problems, each naming the path of the offending value. */
    readonly issues: string[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** An upstream API (Graph, Exchange Online, Teams) answered with an error or with a body we cannot read. */
export class ServiceError extends AuditWardenError {
  override readonly name: string = 'ServiceError';
  constructor(
    message: string,
    readonly service: 'graph' | 'exchange' | 'storage' | 'teams' | 'identity',
    readonly statusCode?: number,
    /** The service's own error code, e.g. Exchange's errorId or Graph's error.code. */
    readonly code?: string,
    options?: { cause?: unknown; transient?: boolean },
  ) {
    super(message, options);
    this.transient = options?.transient ?? false;
  }
  /** True when retrying the same call later may succeed (throttling, 5xx, concurrency limit). */
  readonly transient: boolean;
}

/** Exchange Online refused a cmdlet; `exchangeMessage` is Exchange's own text (error.details[0].message). */
export class ExchangeCommandError extends ServiceError {
  override readonly name = 'ExchangeCommandError';
  constructor(
    message: string,
    readonly cmdlet: string,
    readonly exchangeMessage: string,
    statusCode?: number,
    code?: string,
    options?: { cause?: unknown; transient?: boolean },
  ) {
    super(message, 'exchange', statusCode, code, options);
  }
}

export function isAuditWardenError(value: unknown): value is AuditWardenError {
  return value instanceof AuditWardenError;
}

export function isServiceError(value: unknown): value is ServiceError {
  return value instanceof ServiceError;
}

/** Text for any thrown value, for logs and CLI output. */
export function describeError(error: unknown): string {
  if (error instanceof ValidationError && error.issues.length > 0) {
    return `${error.message}\n${error.issues.map((issue) => `  - ${issue}`).join('\n')}`;
  }
  if (error instanceof Error) return error.message;
  return String(error);
}
