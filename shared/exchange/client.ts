import { randomUUID } from 'node:crypto';
import type { TokenCredential } from '@azure/identity';
import {
  type HttpClient,
  type PipelinePolicy,
  type PipelineRequest,
  type PipelineResponse,
  createHttpHeaders,
  createPipelineRequest,
} from '@azure/core-rest-pipeline';
import { ServiceError, ValidationError } from '../errors';
import { redactSecrets } from '../errors/redact';
import {
  type ApiEventListener,
  type ApiEventType,
  type RetryPolicy,
  Semaphore,
  type SendRequest,
  concurrencyPolicy,
  createClientPipeline,
  defaultSleep,
  describeFailure,
  emitApiEvent,
  failureCode,
  isUnreachable,
  resolveRetryPolicy,
  tokenPolicy,
} from '../http';
import { type Envelope, readAnswer, verdictOf, warningsOf } from './answer';
import { ExchangeInvokeError } from './errors';
import { exchangeRetryStrategies } from './retry';

/**
 * Exchange Online's InvokeCommand endpoint (the "beta" admin API the EXO V3 module uses;
 * REFERENCE.md §1). It is the only REST surface that reaches the audit cmdlets.
 */

/** The arbitration mailbox Exchange routes app-only admin calls through. */
const SYSTEM_MAILBOX = 'SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}';
const DEFAULT_PAGE_SIZE = 1000;
/** Exchange's REST cmdlets stop after 15 minutes; waiting longer for one page helps nobody. */
const DEFAULT_REQUEST_TIMEOUT_MS = 300_000;

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
  /** The wire under the pipeline; defaults to core-rest-pipeline's Node client. */
  httpClient?: HttpClient;
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

/** What the pipeline's policies know about the request they carry. */
interface CmdletCall {
  cmdlet: string;
  /** Retries made so far. */
  retries: number;
}

export class ExchangeClient implements ExchangeCommandRunner {
  private readonly endpoint: string;
  private readonly origin: string;
  private readonly anchorMailbox: string;
  private readonly semaphore: Semaphore;
  private readonly pageSize: number;
  private readonly send: SendRequest;
  private readonly calls = new WeakMap<PipelineRequest, CmdletCall>();

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
    this.semaphore = new Semaphore(options.maxConcurrency);
    this.pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
    const retry = resolveRetryPolicy(options.retry);
    this.send = createClientPipeline({
      strategies: exchangeRetryStrategies(retry, options.random ?? Math.random),
      maxRetries: retry.maxRetries,
      sleep: options.sleep ?? defaultSleep,
      timeoutMs: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      onRetry: (request, notice) => {
        const call = this.calls.get(request);
        if (!call) return;
        call.retries = notice.attempt;
        this.emit('retry', call.cmdlet, notice.status, { delayMs: notice.delayMs, attempt: notice.attempt });
      },
      // The token is fetched before a slot is taken; only the HTTP exchange holds one.
      perAttempt: [tokenPolicy({ credential: options.credential, scope: options.scope, origin: this.origin }), concurrencyPolicy(this.semaphore), this.counter()],
      ...(options.httpClient ? { httpClient: options.httpClient } : {}),
    });
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
      const envelope = await this.run(url, cmdlet, body);
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
    const envelope = await this.run(this.firstUrl(undefined), cmdlet, requestBody(cmdlet, parameters));
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

  /** One logical request through the pipeline (which retries it), read into an envelope or a typed error. */
  private async run(url: string, cmdlet: string, body: string): Promise<Envelope> {
    // One id across retries, so Microsoft can see them as the same request.
    const clientRequestId = randomUUID();
    const headers = createHttpHeaders({
      'Content-Type': 'application/json',
      Accept: 'application/json',
      'Accept-Encoding': 'gzip, deflate',
      'X-AnchorMailbox': this.anchorMailbox,
      'client-request-id': clientRequestId,
    });
    if (/^get-/i.test(cmdlet)) headers.set('Prefer', `odata.maxpagesize=${this.pageSize}`);
    const request = createPipelineRequest({
      url,
      method: 'POST',
      headers,
      body,
      allowInsecureConnection: url.startsWith('http:'),
    });
    const call: CmdletCall = { cmdlet, retries: 0 };
    this.calls.set(request, call);

    let response: PipelineResponse;
    try {
      response = await this.send(request);
    } catch (error) {
      throw this.fail(error instanceof ServiceError ? error : this.unreachable(error, cmdlet, clientRequestId), cmdlet, undefined, call.retries);
    }
    const answer = readAnswer(response, { cmdlet, scope: this.options.scope, clientRequestId });
    if (answer.ok) return answer.envelope;
    throw this.fail(answer.error, cmdlet, response.status, answer.retryable ? call.retries : undefined);
  }

  /** No answer at all. When nothing is listening or the host does not exist, the setting is the likely culprit. */
  private unreachable(error: unknown, cmdlet: string, clientRequestId: string): ExchangeInvokeError {
    const hint = isUnreachable(error)
      ? ` Check EXCHANGE_BASE_URL (${this.options.baseUrl}): nothing answered there, and Exchange Online always does.`
      : '';
    return new ExchangeInvokeError(redactSecrets(`Could not reach Exchange Online for ${cmdlet}: ${describeFailure(error)}.${hint}`), {
      cmdlet,
      exchangeMessage: '',
      clientRequestId,
      transient: true,
      throttled: false,
      ...(failureCode(error) ? { code: failureCode(error) } : {}),
    });
  }

  /** Counts every answered attempt, and throttling, per attempt so retries count too. */
  private counter(): PipelinePolicy {
    return {
      name: 'exchangeCalls',
      sendRequest: async (request, next) => {
        const response = await next(request);
        const cmdlet = this.calls.get(request)?.cmdlet ?? 'unknown';
        this.emit('call', cmdlet, response.status);
        if (verdictOf(response.status, response.bodyAsText ?? '').throttled) this.emit('throttled', cmdlet, response.status);
        return response;
      },
    };
  }

  /** Reports the failure and returns the error to throw, noting spent retries in its message. */
  private fail(error: ServiceError, cmdlet: string, status?: number, retriesSpent?: number): ServiceError {
    this.emit('error', cmdlet, status ?? error.statusCode);
    if (retriesSpent !== undefined && retriesSpent > 0) {
      error.message = `${error.message} (gave up after ${retriesSpent} ${retriesSpent === 1 ? 'retry' : 'retries'})`;
    }
    return error;
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
