import { ExchangeCommandError, ServiceError } from '../errors';
import { truncate } from '../http';

/** Exchange's error text, split into the parts its "<errorId>|<Exception class>|<text>" form carries. */
export interface ExchangeErrorText {
  /** Exchange's error id (e.g. "ex6F9304"), else the OData error.code; absent when neither is given. */
  code?: string;
  /** The .NET exception class, e.g. Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException. */
  exceptionType?: string;
  /** What Exchange said, without the id and class prefixes. Empty when the body said nothing. */
  text: string;
}

const CONCURRENCY_LIMIT = /maximum number of concurrent requests per tenant/i;

/** True for Exchange's per-tenant concurrency refusal, which is throttling whatever its HTTP status. */
export function isConcurrencyLimitText(text: string): boolean {
  return CONCURRENCY_LIMIT.test(text);
}

/**
 * Splits "<errorId>|<Exception class>|<text>". The text itself may contain "|", so only the first
 * two separators count; a message without both is plain text.
 */
export function splitExchangeMessage(message: string): ExchangeErrorText {
  const first = message.indexOf('|');
  const second = first < 0 ? -1 : message.indexOf('|', first + 1);
  if (second < 0) return { text: message.trim() };
  const code = message.slice(0, first).trim();
  const exceptionType = message.slice(first + 1, second).trim();
  return {
    ...(code ? { code } : {}),
    ...(exceptionType ? { exceptionType } : {}),
    text: message.slice(second + 1).trim(),
  };
}

/**
 * Reads an error body. The message is taken from error.details[0].message, then
 * error.innererror.internalException.message, then error.message; a body that is not an OData
 * error is used as plain text (some Exchange errors are).
 */
export function readExchangeErrorBody(body: string): ExchangeErrorText {
  const trimmed = body.trim();
  if (trimmed === '') return { text: '' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    return splitExchangeMessage(truncate(trimmed));
  }
  const error = field(parsed, 'error');
  if (error === undefined) {
    const loose = text(field(parsed, 'message')) ?? text(field(parsed, 'Message'));
    return loose ? splitExchangeMessage(loose) : { text: truncate(trimmed) };
  }
  const odataCode = text(field(error, 'code'));
  const details = field(error, 'details');
  const inner = field(error, 'innererror') ?? field(error, 'innerError');
  const message =
    text(field(Array.isArray(details) ? details[0] : undefined, 'message')) ??
    text(field(field(inner, 'internalException'), 'message')) ??
    text(field(error, 'message')) ??
    '';
  const split = splitExchangeMessage(message);
  const code = split.code ?? odataCode;
  return { ...split, ...(code ? { code } : {}) };
}

export interface ExchangeFailure {
  cmdlet: string;
  statusCode?: number;
  code?: string;
  exceptionType?: string;
  /** Exchange's own words; what an admin would see in PowerShell. */
  exchangeMessage: string;
  /** The id we sent, for matching Microsoft's logs. */
  clientRequestId?: string;
  /** The request-id Exchange answered with, if any. */
  requestId?: string;
  /** Retrying later may succeed (throttling, 5xx, concurrency limit, network failure). */
  transient: boolean;
  /** The refusal was throttling (429 or the concurrency limit). */
  throttled: boolean;
}

/**
 * ExchangeCommandError with what InvokeCommand tells us beyond the message: the exception class,
 * the request ids and whether it was throttling. Still an ExchangeCommandError for callers.
 */
export class ExchangeInvokeError extends ExchangeCommandError {
  readonly exceptionType?: string;
  readonly clientRequestId?: string;
  readonly requestId?: string;
  readonly throttled: boolean;

  constructor(message: string, failure: ExchangeFailure, options?: { cause?: unknown }) {
    super(message, failure.cmdlet, failure.exchangeMessage, failure.statusCode, failure.code, {
      ...options,
      transient: failure.transient,
    });
    this.exceptionType = failure.exceptionType;
    this.clientRequestId = failure.clientRequestId;
    this.requestId = failure.requestId;
    this.throttled = failure.throttled;
  }
}

/** A record Exchange returned that does not have the shape we rely on. Never skipped silently. */
export class ExchangeRecordError extends ServiceError {
  override readonly name = 'ExchangeRecordError';
  constructor(
    message: string,
    readonly cmdlet: string,
    /** How a person finds the record: UPN, SMTP address, Identity or Guid. */
    readonly recordIdentity: string,
    /** One line per problem, each naming the field. */
    readonly issues: string[],
    options?: { cause?: unknown },
  ) {
    super(message, 'exchange', undefined, undefined, options);
  }
}

/**
 * True when Exchange said the object does not exist. Decided from the exception class or text,
 * never from HTTP 404 alone: a wrong base URL or tenant also answers 404, and reading that as
 * "no such mailbox" would hide a configuration error.
 */
export function isExchangeNotFound(error: unknown): boolean {
  if (!(error instanceof ExchangeCommandError)) return false;
  const exceptionType = error instanceof ExchangeInvokeError ? (error.exceptionType ?? '') : '';
  return (
    /ManagementObjectNotFoundException$/.test(exceptionType) ||
    /couldn't be found|could not be found/i.test(error.exchangeMessage)
  );
}

function field(value: unknown, name: string): unknown {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)[name]
    : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

/**
 * Exchange refusals of an audit change that mean something specific (REFERENCE.md §8):
 * - `licence-required`: "Auditing of MailItemsAccessed event is only available for users with
 *   appropriate license…" — Exchange does not see a licence it accepts for the mailbox. Retrying
 *   the same change will not help until the mailbox's licence changes.
 * - `already-audited`: "The input operation(s) is/are already being audited." — an @{Add=…} of an
 *   action the list already holds. Not a failure: the list has what was asked for (the caller
 *   re-reads to be sure).
 */
export type AuditRefusal = 'licence-required' | 'already-audited';

const AUDIT_REFUSALS: ReadonlyArray<[AuditRefusal, RegExp]> = [
  ['licence-required', /only available for users with (the )?appropriate licen[cs]e/i],
  ['already-audited', /operation\(s\) (is\/are|is|are) already being audited/i],
];

/** Which audit refusal an Exchange error (or Exchange's own text) is, if any. */
export function auditRefusalOf(error: unknown): AuditRefusal | undefined {
  const said = error instanceof ExchangeCommandError ? `${error.exchangeMessage}\n${error.message}` : typeof error === 'string' ? error : undefined;
  if (said === undefined) return undefined;
  return AUDIT_REFUSALS.find(([, pattern]) => pattern.test(said))?.[0];
}
