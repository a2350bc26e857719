import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { TokenCredential } from '@azure/identity';
import {
  type HttpClient,
  type PipelinePolicy,
  type PipelineResponse,
  createHttpHeaders,
  createPipelineRequest,
} from '@azure/core-rest-pipeline';
import { Client } from '@microsoft/microsoft-graph-client';
import { z } from 'zod';
import { ServiceError, ValidationError } from '../errors';
import { redactSecrets } from '../errors/redact';
import {
  type ApiEventListener,
  type ApiEventType,
  type SendRequest,
  backoffStrategy,
  createClientPipeline,
  defaultSleep,
  describeFailure,
  emitApiEvent,
  failureCode,
  isUnreachable,
  resolveRetryPolicy,
  retryAfterStrategy,
  tokenPolicy,
  truncate,
  unreachableStrategy,
} from '../http';
import { GraphRequestError } from './errors';
import { PipelineMiddleware } from './sdk-middleware';

/**
 * A Microsoft Graph client whose HTTP goes through a core-rest-pipeline Pipeline: a token for the
 * configured origin only, Retry-After and backoff for 429/503/504, a call counter and redaction.
 * The msgraph SDK client (`sdk`) is kept for calls this module does not wrap; its requests run
 * through the same pipeline (see PipelineMiddleware).
 *
 * Next links are sent exactly as given: the SDK's GraphRequest re-parses an absolute
 * @odata.nextLink (an http:// link becomes a path under the base URL, and the query is split and
 * re-ordered), so paging does not go through it.
 */

const API_VERSION = 'v1.0';
const MAX_RETRIES = 6;
/** RetryHandler's own default (seconds) when there is no Retry-After. */
const DEFAULT_RETRY_DELAY_SECONDS = 3;
/** RetryHandler's ceiling for any single wait. */
const MAX_DELAY_MS = 180_000;
/** Graph's transient answers; a 502 from a proxy or a 500 is reported, not retried. */
const RETRYABLE_STATUS = new Set([429, 503, 504]);

export interface GraphClientOptions {
  /** e.g. https://graph.microsoft.com, without the version; "/v1.0" is added here. */
  baseUrl: string;
  credential: TokenCredential;
  /** e.g. https://graph.microsoft.com/.default */
  scope: string;
  onApiEvent?: ApiEventListener;
  /** Retries per request, and the first backoff step when Graph sends no Retry-After. */
  retry?: { maxRetries?: number; delaySeconds?: number };
  /** Injected so tests can assert delays without waiting. */
  sleep?: (ms: number) => Promise<void>;
  /** Jitter source in [0, 1). */
  random?: () => number;
  /** The wire under the pipeline; defaults to core-rest-pipeline's Node client. */
  httpClient?: HttpClient;
}

export interface GraphRequestOptions {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: unknown;
  /** Answer undefined for HTTP 404 instead of throwing (for "does it exist" reads). */
  notFoundAsUndefined?: boolean;
}

/** One page of a Graph collection. */
export interface GraphPage {
  value: unknown[];
  count?: number;
}

const collectionSchema = z.object({
  value: z.array(z.unknown()),
  '@odata.nextLink': z.string().min(1).optional(),
  '@odata.count': z.number().optional(),
});

const errorBodySchema = z.object({
  error: z.object({
    code: z.string().optional(),
    message: z.string().optional(),
    innerError: z.object({ 'request-id': z.string().optional() }).loose().optional(),
  }),
});

export class GraphClient {
  /** The SDK client over the same pipeline, for Graph calls this module does not wrap. */
  readonly sdk: Client;
  /** Base URL with the API version, e.g. https://graph.microsoft.com/v1.0 */
  readonly apiRoot: string;
  private readonly origin: string;
  private readonly send: SendRequest;

  constructor(private readonly options: GraphClientOptions) {
    let base: URL;
    try {
      base = new URL(options.baseUrl);
    } catch (error) {
      throw new ValidationError(`The Graph base URL is not a URL: ${options.baseUrl}`, 'graph client options', [], { cause: error });
    }
    if (/\/(v1\.0|beta)$/i.test(base.pathname.replace(/\/+$/, ''))) {
      throw new ValidationError(`The Graph base URL must not include the API version: ${options.baseUrl}`, 'graph client options');
    }
    const root = options.baseUrl.replace(/\/+$/, '');
    this.apiRoot = `${root}/${API_VERSION}`;
    this.origin = base.origin;
    const retry = resolveRetryPolicy(
      { maxRetries: options.retry?.maxRetries, baseDelayMs: options.retry?.delaySeconds === undefined ? undefined : options.retry.delaySeconds * 1000 },
      { maxRetries: MAX_RETRIES, baseDelayMs: DEFAULT_RETRY_DELAY_SECONDS * 1000, maxDelayMs: MAX_DELAY_MS },
    );
    this.send = createClientPipeline({
      strategies: [
        unreachableStrategy(),
        retryAfterStrategy({ maxDelayMs: retry.maxDelayMs }),
        backoffStrategy(retry, options.random ?? Math.random, ({ response }) => response !== undefined && RETRYABLE_STATUS.has(response.status)),
      ],
      maxRetries: retry.maxRetries,
      sleep: options.sleep ?? defaultSleep,
      onRetry: (request, { attempt, delayMs, status }) =>
        this.emit('retry', operationOf(request.method, request.url), { ...(status === undefined ? {} : { status }), attempt, delayMs }),
      perAttempt: [tokenPolicy({ credential: options.credential, scope: options.scope, origin: this.origin }), this.counter()],
      ...(options.httpClient ? { httpClient: options.httpClient } : {}),
    });
    this.sdk = Client.initWithMiddleware({ middleware: new PipelineMiddleware(this.send), baseUrl: root, defaultVersion: API_VERSION });
  }

  /**
   * Sends one request and returns its parsed JSON (undefined for an empty body). `target` is a
   * path under the API root ("/users?$top=1") or an absolute URL on the same origin (a next link).
   * Non-2xx answers and unreadable bodies become GraphRequestError; nothing here prints a token.
   */
  async request(target: string, options: GraphRequestOptions = {}): Promise<unknown> {
    const method = options.method ?? 'GET';
    const url = this.resolve(target);
    const operation = operationOf(method, url);
    const headers = createHttpHeaders({ Accept: 'application/json', 'Accept-Encoding': 'gzip, deflate', 'client-request-id': randomUUID(), ...options.headers });
    let body: string | undefined;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers.set('Content-Type', 'application/json');
    }
    const request = createPipelineRequest({ url, method, headers, ...(body === undefined ? {} : { body }), allowInsecureConnection: url.startsWith('http:') });
    let response: PipelineResponse;
    try {
      response = await this.send(request);
    } catch (error) {
      this.emit('error', operation);
      if (error instanceof ServiceError) throw error;
      throw this.unreachable(error, operation);
    }
    const text = response.bodyAsText ?? '';
    if (response.status === 404 && options.notFoundAsUndefined) return undefined;
    if (response.status < 200 || response.status >= 300) {
      this.emit('error', operation, { status: response.status });
      throw this.httpError(operation, response, text);
    }
    if (text.trim() === '') return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      this.emit('error', operation, { status: response.status });
      throw new GraphRequestError(
        `Microsoft Graph answered ${operation} with a body that is not JSON (HTTP ${response.status}, ${response.headers.get('content-type') ?? 'no content type'}): "${truncate(text, 200)}".`,
        operation,
        response.status,
        undefined,
        undefined,
        { cause: error },
      );
    }
  }

  /**
   * A collection page by page, following @odata.nextLink exactly as given (with the same
   * headers, which advanced queries need on every page) until there is none.
   */
  async *pages(path: string, headers: Record<string, string> = {}): AsyncGenerator<GraphPage> {
    let target: string | undefined = path;
    while (target !== undefined) {
      const body = await this.request(target, { headers });
      const page = collectionSchema.safeParse(body);
      if (!page.success) {
        const operation = operationOf('GET', this.resolve(target));
        this.emit('error', operation);
        throw new GraphRequestError(
          `Microsoft Graph answered ${operation} with something other than a collection: ${page.error.issues
            .map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`)
            .join('; ')}.`,
          operation,
        );
      }
      yield { value: page.data.value, ...(page.data['@odata.count'] === undefined ? {} : { count: page.data['@odata.count'] }) };
      target = page.data['@odata.nextLink'];
    }
  }

  private resolve(target: string): string {
    if (!/^[a-z][a-z0-9+.-]*:/i.test(target)) return `${this.apiRoot}/${target.replace(/^\/+/, '')}`;
    const url = new URL(target);
    if (url.origin !== this.origin) {
      throw new GraphRequestError(
        `Microsoft Graph returned a link to ${url.origin}, not ${this.origin}; refusing to send the token there.`,
        `GET ${url.pathname}`,
      );
    }
    return url.href;
  }

  /** No answer at all. When nothing is listening or the host does not exist, the setting is the likely culprit. */
  private unreachable(error: unknown, operation: string): GraphRequestError {
    const hint = isUnreachable(error)
      ? ` Check GRAPH_BASE_URL (${this.options.baseUrl}): nothing answered there, and Microsoft Graph always does.`
      : '';
    return new GraphRequestError(
      redactSecrets(`Could not reach Microsoft Graph for ${operation}: ${describeFailure(error)}.${hint}`),
      operation,
      undefined,
      failureCode(error),
      undefined,
      { transient: true },
    );
  }

  private httpError(operation: string, response: PipelineResponse, text: string): GraphRequestError {
    const status = response.status;
    const body = errorBodySchema.safeParse(safeJson(text));
    const code = body.success ? body.data.error.code : undefined;
    const said = body.success ? (body.data.error.message ?? '') : truncate(text, 300);
    const requestId = body.success ? body.data.error.innerError?.['request-id'] : undefined;
    let message = `Microsoft Graph ${operation} failed (HTTP ${status}${code ? ` ${code}` : ''}): ${said || STATUS_CODES[status] || 'no message'}`;
    if (status === 401) message += `. The token must be issued for ${this.options.scope}.`;
    if (status === 403) message += '. The app may lack the Graph permission this call needs (e.g. User.Read.All, Organization.Read.All).';
    return new GraphRequestError(message, operation, status, code, requestId, { transient: status === 429 || status >= 500 });
  }

  /** Reports every answered attempt, and throttling, per attempt so retries count too. */
  private counter(): PipelinePolicy {
    return {
      name: 'graphCalls',
      sendRequest: async (request, next) => {
        const response = await next(request);
        const operation = operationOf(request.method, request.url);
        this.emit('call', operation, { status: response.status });
        if (response.status === 429) this.emit('throttled', operation, { status: response.status });
        return response;
      },
    };
  }

  private emit(type: ApiEventType, operation: string, extra: { status?: number; delayMs?: number; attempt?: number } = {}): void {
    emitApiEvent(this.options.onApiEvent, { api: 'graph', type, operation, ...extra });
  }
}

export function createGraphClient(options: GraphClientOptions): GraphClient {
  return new GraphClient(options);
}

/** Method and path without the query, e.g. "GET /v1.0/users". */
function operationOf(method: string, url: string): string {
  return `${method} ${new URL(url).pathname}`;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
