import { STATUS_CODES } from 'node:http';
import type { PipelineResponse } from '@azure/core-rest-pipeline';
import { z } from 'zod';
import { ServiceError } from '../errors';
import { truncate } from '../http';
import { ExchangeInvokeError, isConcurrencyLimitText, readExchangeErrorBody } from './errors';

/**
 * Reading InvokeCommand's answers: the envelope of a success, Exchange's error in any of the
 * shapes it uses (OData JSON, plain text, @adminapi.errors inside a 2xx), and whether an answer is
 * throttling or worth another try. The client, its retry strategy and its call counter all read
 * the same verdict, so they cannot disagree.
 */

export const envelopeSchema = z.object({
  value: z.array(z.unknown()).optional(),
  '@odata.nextLink': z.string().min(1).optional(),
  '@adminapi.warnings': z.array(z.unknown()).nullish(),
  '@adminapi.errors': z.unknown().optional(),
});
export type Envelope = z.infer<typeof envelopeSchema>;

/** Retried whatever the body says: timeouts and gateway or availability failures. A plain 500 is a cmdlet failing, not the service. */
const RETRYABLE_STATUS = new Set([408, 429, 502, 503, 504]);

export interface Verdict {
  /** HTTP 429, or Exchange's per-tenant concurrency limit whatever the status. */
  throttled: boolean;
  retryable: boolean;
}

export function verdictOf(status: number, text: string): Verdict {
  if (status >= 200 && status < 300) {
    // The text test first: parsing every page of mailboxes to look for an error would be waste.
    const throttled = isConcurrencyLimitText(text) && adminApiErrors(adminApiErrorsIn(text)).some(isConcurrencyLimitText);
    return { throttled, retryable: throttled };
  }
  const throttled = status === 429 || isConcurrencyLimitText(text);
  return { throttled, retryable: throttled || RETRYABLE_STATUS.has(status) };
}

export type Answer = { ok: true; envelope: Envelope } | { ok: false; error: ServiceError; retryable: boolean };

export interface AnswerContext {
  cmdlet: string;
  /** The scope the token must be issued for, named in a 401. */
  scope: string;
  clientRequestId: string;
}

/** The envelope, or the error to throw. The body has been redacted by the pipeline already. */
export function readAnswer(response: PipelineResponse, context: AnswerContext): Answer {
  const text = response.bodyAsText ?? '';
  const requestId = response.headers.get('request-id') ?? undefined;
  if (response.status >= 200 && response.status < 300) return readSuccess(text, response, context, requestId);

  const { status } = response;
  const { cmdlet, clientRequestId } = context;
  const detail = readExchangeErrorBody(text);
  const { throttled, retryable } = verdictOf(status, text);
  const exceptionType = detail.exceptionType ?? response.headers.get('x-ExceptionType') ?? undefined;
  const error = new ExchangeInvokeError(describeHttpError(response, detail.text, exceptionType, context), {
    cmdlet,
    statusCode: status,
    code: detail.code,
    exceptionType,
    exchangeMessage: detail.text,
    clientRequestId,
    requestId,
    transient: retryable,
    throttled,
  });
  return { ok: false, error, retryable };
}

function readSuccess(text: string, response: PipelineResponse, context: AnswerContext, requestId: string | undefined): Answer {
  const { status } = response;
  const { cmdlet, clientRequestId } = context;
  // Set-* commands may answer 204 or an empty 200: success with nothing to report.
  if (text.trim() === '') return { ok: true, envelope: {} };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const type = response.headers.get('content-type') ?? 'no content type';
    return {
      ok: false,
      retryable: false,
      error: new ServiceError(
        `Exchange Online answered ${cmdlet} with a body that is not JSON (HTTP ${status}, ${type}): "${truncate(text, 200)}".`,
        'exchange',
        status,
        undefined,
        { cause: error },
      ),
    };
  }
  const envelope = envelopeSchema.safeParse(parsed);
  if (!envelope.success) {
    const problems = envelope.error.issues.map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`);
    return {
      ok: false,
      retryable: false,
      error: new ServiceError(
        `Exchange Online answered ${cmdlet} with JSON of an unexpected shape (HTTP ${status}): ${problems.join('; ')}.`,
        'exchange',
        status,
      ),
    };
  }
  const errors = adminApiErrors(envelope.data['@adminapi.errors']);
  if (errors.length === 0) return { ok: true, envelope: envelope.data };
  // Exchange reports some failures inside a 2xx answer; they are failures all the same.
  const detail = readExchangeErrorBody(JSON.stringify({ error: { message: errors[0] } }));
  const throttled = isConcurrencyLimitText(detail.text);
  const all = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
  return {
    ok: false,
    retryable: throttled,
    error: new ExchangeInvokeError(`Exchange Online reported an error for ${cmdlet}: ${detail.text}${all}`, {
      cmdlet,
      statusCode: status,
      code: detail.code,
      exceptionType: detail.exceptionType,
      exchangeMessage: detail.text,
      clientRequestId,
      requestId,
      transient: throttled,
      throttled,
    }),
  };
}

function describeHttpError(response: PipelineResponse, text: string, exceptionType: string | undefined, context: AnswerContext): string {
  const { status } = response;
  const { cmdlet } = context;
  const kind = exceptionType ? `, ${exceptionType.split('.').pop()}` : '';
  const said = text || STATUS_CODES[status] || 'no message';
  if (status === 401) {
    // Whatever Exchange says, the usual cause is a token for another resource (e.g. Graph):
    // that is permanent, so it is reported rather than retried.
    const challenge = bearerChallenge(response.headers.get('www-authenticate'));
    return (
      `Exchange Online rejected the access token for ${cmdlet} (HTTP 401${kind}): ${said}${challenge}. ` +
      `The token must be issued for ${context.scope}; a token for another resource (such as Microsoft Graph) ` +
      `or an app without Exchange.ManageAsApp and an Exchange role is refused.`
    );
  }
  if (status === 403) {
    return `Exchange Online refused ${cmdlet} (HTTP 403${kind}): ${said}. The app's Exchange role may not include this cmdlet.`;
  }
  return `Exchange Online refused ${cmdlet} (HTTP ${status}${kind}): ${said}`;
}

export function warningsOf(envelope: Envelope): string[] {
  return (envelope['@adminapi.warnings'] ?? []).map((warning) => (typeof warning === 'string' ? warning : JSON.stringify(warning)));
}

/** @adminapi.errors has no documented shape: accept a string, an array, or objects with a message. */
function adminApiErrors(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  const items = Array.isArray(value) ? value : [value];
  return items
    .map((item) => {
      if (typeof item === 'string') return item;
      if (item && typeof item === 'object') {
        const record = item as Record<string, unknown>;
        for (const key of ['message', 'Message', 'ErrorMessage', 'Exception']) {
          if (typeof record[key] === 'string') return record[key];
        }
      }
      return JSON.stringify(item);
    })
    .filter((text) => text.trim() !== '');
}

function adminApiErrorsIn(text: string): unknown {
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>)['@adminapi.errors'] : undefined;
  } catch {
    return undefined;
  }
}

/** error and error_description from a Bearer challenge; they explain a 401 and hold no secret. */
function bearerChallenge(header: string | undefined): string {
  if (!header) return '';
  const error = /error="([^"]*)"/i.exec(header)?.[1];
  const description = /error_description="([^"]*)"/i.exec(header)?.[1];
  const parts = [error, description].filter((part): part is string => Boolean(part));
  return parts.length > 0 ? ` [${parts.join(': ')}]` : '';
}
