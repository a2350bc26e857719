import { randomUUID } from 'node:crypto';
import type { TokenCredential } from '@azure/identity';
import { z } from 'zod';
import { ServiceError, ValidationError } from '../errors';
import {
  type ApiEventListener,
  type ApiEventType,
  type RetryPolicy,
  Semaphore,
  backoffDelay,
  defaultSleep,
  describeFailure,
  emitApiEvent,
  parseRetryAfter,
  redact,
  resolveRetryPolicy,
  truncate,
} from '../http';
import { ExchangeInvokeError, isConcurrencyLimitText, readExchangeErrorBody } from './errors';

/**
 * Exchange Online's InvokeCommand endpoint (the "beta" admin API the EXO V3 module uses;
 * REFERENCE.md §1). It is the only REST surface that reaches the audit cmdlets.
 */

/** The arbitration mailbox Exchange routes app-only admin calls through. */
const SYSTEM_MAILBOX = 'SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}';
const DEFAULT_PAGE_SIZE = 1000;
/** Exchange's REST cmdlets stop after 15 minutes; waiting longer for one page helps nobody. */
const DEFAULT_REQUEST_TIMEOUT_MS = 300_000;
/** Retried whatever the body says: timeouts and gateway or availability failures. */
const RETRYABLE_STATUS = new Set([408, 429, 502, 503, 504]);

export type CmdletParameters = Readonly<Record<string, unknown>>;

export interface ExchangeClientOptions {
  /** e.g. https://outlook.office365.com, or the simulated tenant. No trailing path. */
  baseUrl: string;
  /** Tenant GUID (or its *.onmicrosoft.com name). */
  tenantId: string;
  credential: TokenCredential;
  /** e.g. https://outlook.office365.com/.default */
  scope: string;
  /** Requests in flight at once from this client, across all pages and callers. */
  maxConcurrency: number;
  retry?: Partial<RetryPolicy>;
  /** Injected so tests can assert delays without waiting. */
  sleep?: (ms: number) => Promise<void>;
  fetch?: typeof fetch;
  onApiEvent?: ApiEventListener;
  /** Jitter source in [0, 1). */
  random?: () => number;
  /** Sent as Prefer: odata.maxpagesize for Get-* cmdlets. */
  pageSize?: number;
  requestTimeoutMs?: number;
}

/** One page of a cmdlet's output, with the warnings Exchange attached to it. */
export interface ExchangePage {
  value: unknown[];
  warnings: string[];
}

export interface ExchangeCommandResult {
  value: unknown[];
  warnings: string[];
}

export interface SelectOptions {
  /** Properties to return ($select); Exchange returns every property otherwise. */
  select?: readonly string[];
}

/**
 * The surface the cmdlet wrappers need; a fake of this is enough to unit-test code that uses them.
 */
export interface ExchangeCommandRunner {
  pages(cmdlet: string, parameters?: CmdletParameters, options?: SelectOptions): AsyncIterable<ExchangePage>;
  records(cmdlet: string, parameters?: CmdletParameters, options?: SelectOptions): AsyncIterable<unknown>;
  invoke(cmdlet: string, parameters?: CmdletParameters): Promise<ExchangeCommandResult>;
}

const envelopeSchema = z.object({
  value: z.array(z.unknown()).optional(),
  '@odata.nextLink': z.string().min(1).optional(),
  '@adminapi.warnings': z.array(z.unknown()).nullish(),
  '@adminapi.errors': z.unknown().optional(),
});
type Envelope = z.infer<typeof envelopeSchema>;

type Attempt =
  | { ok: true; envelope: Envelope }
  | { ok: false; error: ServiceError; retryable: boolean; retryAfterMs?: number; status?: number };

export class ExchangeClient implements ExchangeCommandRunner {
  private readonly endpoint: string;
  private readonly origin: string;
  private readonly anchorMailbox: string;
  private readonly retry: RetryPolicy;
  private readonly semaphore: Semaphore;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly fetchImpl: typeof fetch;
  private readonly random: () => number;
  private readonly pageSize: number;
  private readonly timeoutMs: number;
  /** The last token we sent, kept only to scrub it from any text we put in an error. */
  private lastToken: string | undefined;

  constructor(private readonly options: ExchangeClientOptions) {
    if (!options.tenantId.trim()) throw new ValidationError('The Exchange client needs a tenant id.', 'exchange client options');
    let base: URL;
    try {
      base = new URL(options.baseUrl);
    } catch (error) {
      throw new ValidationError(`The Exchange base URL is not a URL: ${options.baseUrl}`, 'exchange client options', [], {
        cause: error,
      });
    }
    this.origin = base.origin;
    this.endpoint = `${options.baseUrl.replace(/\/+$/, '')}/adminapi/beta/${encodeURIComponent(options.tenantId)}/InvokeCommand`;
    this.anchorMailbox = `APP:${SYSTEM_MAILBOX}@${options.tenantId}`;
    this.retry = resolveRetryPolicy(options.retry);
    this.semaphore = new Semaphore(options.maxConcurrency);
    this.sleep = options.sleep ?? defaultSleep;
    this.fetchImpl = options.fetch ?? fetch;
    this.random = options.random ?? Math.random;
    this.pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
    this.timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  }

  /** Requests this client has in flight right now. */
  get inFlight(): number {
    return this.semaphore.inFlight;
  }

  /**
   * A cmdlet's output page by page: the same body is POSTed to each @odata.nextLink until none is
   * returned. Pages are fetched only as the caller asks for them, so memory stays flat.
   */
  async *pages(cmdlet: string, parameters: CmdletParameters = {}, options: SelectOptions = {}): AsyncGenerator<ExchangePage> {
    const body = requestBody(cmdlet, parameters);
    let url: string | undefined = this.firstUrl(options.select);
    while (url !== undefined) {
      const envelope = await this.send(url, cmdlet, body);
      yield { value: envelope.value ?? [], warnings: warningsOf(envelope) };
      url = envelope['@odata.nextLink'] === undefined ? undefined : this.nextUrl(envelope['@odata.nextLink'], url, cmdlet);
    }
  }

  /** A cmdlet's output one record at a time (records are `unknown`: parse them at the call site). */
  async *records(cmdlet: string, parameters: CmdletParameters = {}, options: SelectOptions = {}): AsyncGenerator<unknown> {
    for await (const page of this.pages(cmdlet, parameters, options)) yield* page.value;
  }

  /**
   * Runs a cmdlet whose output fits in one answer (Set-*, or a Get-* for one object). A paged
   * answer is refused rather than cut short: use pages() or records() for those.
   */
  async invoke(cmdlet: string, parameters: CmdletParameters = {}): Promise<ExchangeCommandResult> {
    const envelope = await this.send(this.firstUrl(undefined), cmdlet, requestBody(cmdlet, parameters));
    if (envelope['@odata.nextLink'] !== undefined) {
      throw this.fail(
        new ServiceError(
          `Exchange Online answered ${cmdlet} with more than one page; read it with records() instead of invoke().`,
          'exchange',
        ),
        cmdlet,
      );
    }
    return { value: envelope.value ?? [], warnings: warningsOf(envelope) };
  }

  private firstUrl(select: readonly string[] | undefined): string {
    if (!select || select.length === 0) return this.endpoint;
    for (const property of select) {
      if (!/^[A-Za-z0-9_]+$/.test(property)) throw new ValidationError(`Not a property name: ${property}`, '$select');
    }
    return `${this.endpoint}?$select=${select.join(',')}`;
  }

  /**
   * The next link is used as given, but only on the origin we were configured with: the request
   * carries our bearer token, and a link elsewhere must not receive it.
   */
  private nextUrl(link: string, current: string, cmdlet: string): string {
    let next: URL;
    try {
      next = new URL(link, current);
    } catch (error) {
      throw this.fail(
        new ServiceError(`Exchange Online returned an unreadable @odata.nextLink for ${cmdlet}.`, 'exchange', undefined, undefined, {
          cause: error,
        }),
        cmdlet,
      );
    }
    if (next.origin !== this.origin) {
      throw this.fail(
        new ServiceError(
          `Exchange Online returned an @odata.nextLink for ${cmdlet} on ${next.origin}, not ${this.origin}; refusing to send the token there.`,
          'exchange',
        ),
        cmdlet,
      );
    }
    return next.href;
  }

  /** One logical request: attempts under the concurrency limit, retries with backoff between them. */
  private async send(url: string, cmdlet: string, body: string): Promise<Envelope> {
    // One id across retries, so Microsoft can see them as the same request.
    const clientRequestId = randomUUID();
    for (let retry = 0; ; retry += 1) {
      const token = await this.token(cmdlet);
      // Only the HTTP exchange holds a slot; waits between retries do not, and neither does a
      // caller pausing between pages (which could otherwise deadlock nested calls).
      const attempt = await this.semaphore.run(() => this.attempt(url, cmdlet, body, token, clientRequestId));
      if (attempt.ok) return attempt.envelope;
      if (!attempt.retryable || retry >= this.retry.maxRetries) {
        throw this.fail(attempt.error, cmdlet, attempt.status, attempt.retryable ? retry : undefined);
      }
      const delayMs = Math.min(this.retry.maxDelayMs, attempt.retryAfterMs ?? backoffDelay(retry + 1, this.retry, this.random));
      this.emit('retry', cmdlet, attempt.status, { delayMs, attempt: retry + 1 });
      await this.sleep(delayMs);
    }
  }

  private async attempt(url: string, cmdlet: string, body: string, token: string, clientRequestId: string): Promise<Attempt> {
    const headers: Record<string, string> = {
      Authorization: `Bearer ${token}`,
      'Content-Type': 'application/json',
      Accept: 'application/json',
      'X-AnchorMailbox': this.anchorMailbox,
      'client-request-id': clientRequestId,
    };
    if (/^get-/i.test(cmdlet)) headers.Prefer = `odata.maxpagesize=${this.pageSize}`;

    let response: Response;
    try {
      response = await this.fetchImpl(url, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      return {
        ok: false,
        retryable: true,
        error: new ExchangeInvokeError(
          this.scrub(`Could not reach Exchange Online for ${cmdlet}: ${describeFailure(error)}.`),
          { cmdlet, exchangeMessage: '', clientRequestId, transient: true, throttled: false },
          { cause: error },
        ),
      };
    }

    const status = response.status;
    this.emit('call', cmdlet, status);
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      return {
        ok: false,
        retryable: true,
        status,
        error: new ExchangeInvokeError(
          this.scrub(`The answer from Exchange Online to ${cmdlet} broke off (HTTP ${status}): ${describeFailure(error)}.`),
          { cmdlet, statusCode: status, exchangeMessage: '', clientRequestId, transient: true, throttled: false },
          { cause: error },
        ),
      };
    }

    const requestId = response.headers.get('request-id') ?? undefined;
    if (response.ok) return this.readSuccess(text, response, cmdlet, clientRequestId, requestId);

    const detail = readExchangeErrorBody(text);
    const throttled = status === 429 || isConcurrencyLimitText(detail.text) || isConcurrencyLimitText(text);
    if (throttled) this.emit('throttled', cmdlet, status);
    const retryable = throttled || RETRYABLE_STATUS.has(status);
    const exceptionType = detail.exceptionType ?? response.headers.get('x-ExceptionType') ?? undefined;
    const error = new ExchangeInvokeError(this.scrub(this.describeHttpError(cmdlet, status, detail.text, exceptionType, response)), {
      cmdlet,
      statusCode: status,
      code: detail.code,
      exceptionType,
      exchangeMessage: this.scrub(detail.text),
      clientRequestId,
      requestId,
      transient: retryable,
      throttled,
    });
    return { ok: false, error, retryable, status, retryAfterMs: parseRetryAfter(response.headers.get('retry-after')) };
  }

  private readSuccess(text: string, response: Response, cmdlet: string, clientRequestId: string, requestId?: string): Attempt {
    const status = response.status;
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
        status,
        error: new ServiceError(
          this.scrub(
            `Exchange Online answered ${cmdlet} with a body that is not JSON (HTTP ${status}, ${type}): "${truncate(text, 200)}".`,
          ),
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
        status,
        error: new ServiceError(
          `Exchange Online answered ${cmdlet} with JSON of an unexpected shape (HTTP ${status}): ${problems.join('; ')}.`,
          'exchange',
          status,
        ),
      };
    }
    const errors = adminApiErrors(envelope.data['@adminapi.errors']);
    if (errors.length > 0) {
      // Exchange reports some failures inside a 2xx answer; they are failures all the same.
      const detail = readExchangeErrorBody(JSON.stringify({ error: { message: errors[0] } }));
      const throttled = isConcurrencyLimitText(detail.text);
      if (throttled) this.emit('throttled', cmdlet, status);
      const all = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
      return {
        ok: false,
        retryable: throttled,
        status,
        error: new ExchangeInvokeError(
          this.scrub(`Exchange Online reported an error for ${cmdlet}: ${detail.text}${all}`),
          {
            cmdlet,
            statusCode: status,
            code: detail.code,
            exceptionType: detail.exceptionType,
            exchangeMessage: this.scrub(detail.text),
            clientRequestId,
            requestId,
            transient: throttled,
            throttled,
          },
        ),
      };
    }
    return { ok: true, envelope: envelope.data };
  }

  private describeHttpError(cmdlet: string, status: number, text: string, exceptionType: string | undefined, response: Response): string {
    const kind = exceptionType ? `, ${exceptionType.split('.').pop()}` : '';
    const said = text || response.statusText || 'no message';
    if (status === 401) {
      // Whatever Exchange says, the usual cause is a token for another resource (e.g. Graph):
      // that is permanent, so it is reported rather than retried.
      const challenge = bearerChallenge(response.headers.get('www-authenticate'));
      return (
        `Exchange Online rejected the access token for ${cmdlet} (HTTP 401${kind}): ${said}${challenge}. ` +
        `The token must be issued for ${this.options.scope}; a token for another resource (such as Microsoft Graph) ` +
        `or an app without Exchange.ManageAsApp and an Exchange role is refused.`
      );
    }
    if (status === 403) {
      return `Exchange Online refused ${cmdlet} (HTTP 403${kind}): ${said}. The app's Exchange role may not include this cmdlet.`;
    }
    return `Exchange Online refused ${cmdlet} (HTTP ${status}${kind}): ${said}`;
  }

  private async token(cmdlet: string): Promise<string> {
    let token: string | undefined;
    try {
      token = (await this.options.credential.getToken(this.options.scope))?.token;
    } catch (error) {
      throw this.fail(
        new ServiceError(
          this.scrub(`Could not get a token for ${this.options.scope} to run ${cmdlet}: ${describeFailure(error)}`),
          'identity',
          undefined,
          undefined,
          { cause: error },
        ),
        cmdlet,
      );
    }
    if (!token) {
      throw this.fail(new ServiceError(`The credential returned no token for ${this.options.scope}.`, 'identity'), cmdlet);
    }
    this.lastToken = token;
    return token;
  }

  /** Reports the failure and returns the error to throw, noting exhausted retries in its message. */
  private fail(error: ServiceError, cmdlet: string, status?: number, retriesSpent?: number): ServiceError {
    this.emit('error', cmdlet, status ?? error.statusCode);
    if (retriesSpent !== undefined && retriesSpent > 0) {
      error.message = `${error.message} (gave up after ${retriesSpent} ${retriesSpent === 1 ? 'retry' : 'retries'})`;
    }
    return error;
  }

  private scrub(text: string): string {
    return redact(text, [this.lastToken]);
  }

  private emit(type: ApiEventType, cmdlet: string, status?: number, extra: { delayMs?: number; attempt?: number } = {}): void {
    emitApiEvent(this.options.onApiEvent, {
      api: 'exchange',
      type,
      cmdlet,
      ...(status === undefined ? {} : { status }),
      ...extra,
    });
  }
}

function requestBody(cmdlet: string, parameters: CmdletParameters): string {
  if (!/^[A-Za-z]+-[A-Za-z0-9]+$/.test(cmdlet)) throw new ValidationError(`Not a cmdlet name: ${cmdlet}`, 'exchange cmdlet');
  return JSON.stringify({ CmdletInput: { CmdletName: cmdlet, Parameters: parameters } });
}

function warningsOf(envelope: Envelope): string[] {
  return (envelope['@adminapi.warnings'] ?? []).map((warning) =>
    typeof warning === 'string' ? warning : JSON.stringify(warning),
  );
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

/** error and error_description from a Bearer challenge; they explain a 401 and hold no secret. */
function bearerChallenge(header: string | null): string {
  if (!header) return '';
  const error = /error="([^"]*)"/i.exec(header)?.[1];
  const description = /error_description="([^"]*)"/i.exec(header)?.[1];
  const parts = [error, description].filter((part): part is string => Boolean(part));
  return parts.length > 0 ? ` [${parts.join(': ')}]` : '';
}
