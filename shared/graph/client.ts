import { randomUUID } from 'node:crypto';
import type { TokenCredential } from '@azure/identity';
import {
  Client,
  HTTPMessageHandler,
  type Context,
  type Middleware,
  RetryHandler,
  RetryHandlerOptions,
} from '@microsoft/microsoft-graph-client';
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials';
import { z } from 'zod';
import { ServiceError, ValidationError } from '../errors';
import { type ApiEventListener, type ApiEventType, describeFailure, emitApiEvent, parseRetryAfter, redact, truncate } from '../http';
import { GraphRequestError } from './errors';

/**
 * A Microsoft Graph client built from the msgraph SDK's pieces: TokenCredentialAuthenticationProvider
 * for tokens, RetryHandler for 429/503/504 with Retry-After, HTTPMessageHandler for the wire.
 *
 * Two of the SDK's defaults are replaced, after reading its source (3.0.7):
 * - Its AuthenticationHandler decides where a token may go by host name, and only for URLs that
 *   start with "https://" (GraphRequestUtil.isValidEndpoint); for any other URL it strips the
 *   Authorization header. `customHosts` therefore cannot make it authenticate to
 *   http://127.0.0.1:<port> (the simulated tenant), and for https it ignores the port. Our handler
 *   below attaches the token when the request's origin (scheme, host and port) is the configured
 *   one, and strips it otherwise.
 * - GraphRequest (client.api(path)) re-parses an absolute @odata.nextLink: an http:// link becomes
 *   a path under the base URL, and the query is split and re-ordered. Next links are opaque, so
 *   this module sends every request, first page or next link, through the same middleware chain
 *   directly. The `sdk` Client shares that chain for any other call.
 */

const API_VERSION = 'v1.0';
const MAX_RETRIES = 6;
/** RetryHandler's own default (seconds) when there is no Retry-After. */
const DEFAULT_RETRY_DELAY_SECONDS = 3;

export interface GraphClientOptions {
  /** e.g. https://graph.microsoft.com, without the version; "/v1.0" is added here. */
  baseUrl: string;
  credential: TokenCredential;
  /** e.g. https://graph.microsoft.com/.default */
  scope: string;
  onApiEvent?: ApiEventListener;
  /** RetryHandler settings; the SDK caps maxRetries at 10 and any single wait at 180 s. */
  retry?: { maxRetries?: number; delaySeconds?: number };
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
  /** The SDK client over the same middleware, for Graph calls this module does not wrap. */
  readonly sdk: Client;
  /** Base URL with the API version, e.g. https://graph.microsoft.com/v1.0 */
  readonly apiRoot: string;
  private readonly origin: string;

  constructor(
    private readonly chain: Middleware,
    apiRoot: string,
    private readonly scope: string,
    private readonly tokens: TokenTracker,
    private readonly onApiEvent: ApiEventListener | undefined,
  ) {
    this.apiRoot = apiRoot;
    this.origin = new URL(apiRoot).origin;
    const base = apiRoot.slice(0, -`/${API_VERSION}`.length);
    this.sdk = Client.initWithMiddleware({ middleware: chain, baseUrl: base, defaultVersion: API_VERSION });
  }

  /**
   * Sends one request and returns its parsed JSON (undefined for an empty body). `target` is a
   * path under the API root ("/users?$top=1") or an absolute URL on the same origin (a next link).
   * Non-2xx answers and unreadable bodies become GraphRequestError; nothing here prints a token.
   */
  async request(target: string, options: GraphRequestOptions = {}): Promise<unknown> {
    const method = options.method ?? 'GET';
    const url = this.resolve(target);
    const operation = `${method} ${new URL(url).pathname}`;
    const headers: Record<string, string> = { Accept: 'application/json', 'client-request-id': randomUUID(), ...options.headers };
    let body: string | undefined;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['Content-Type'] = 'application/json';
    }
    const context: Context = { request: url, options: { method, headers, ...(body === undefined ? {} : { body }) } };
    try {
      await this.chain.execute(context);
    } catch (error) {
      this.emit('error', operation);
      if (error instanceof ServiceError) throw error;
      throw new GraphRequestError(this.scrub(`Could not reach Microsoft Graph for ${operation}: ${describeFailure(error)}.`), operation, undefined, undefined, undefined, {
        cause: error,
        transient: true,
      });
    }
    const response = context.response;
    if (!response) {
      this.emit('error', operation);
      throw new GraphRequestError(`Microsoft Graph gave no response to ${operation}.`, operation);
    }
    const text = await response.text();
    if (response.status === 404 && options.notFoundAsUndefined) return undefined;
    if (!response.ok) {
      this.emit('error', operation, response.status);
      throw this.httpError(operation, response, text);
    }
    if (text.trim() === '') return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      this.emit('error', operation, response.status);
      throw new GraphRequestError(
        this.scrub(
          `Microsoft Graph answered ${operation} with a body that is not JSON (HTTP ${response.status}, ${response.headers.get('content-type') ?? 'no content type'}): "${truncate(text, 200)}".`,
        ),
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
        const operation = `GET ${new URL(this.resolve(target)).pathname}`;
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

  private httpError(operation: string, response: Response, text: string): GraphRequestError {
    const status = response.status;
    const parsed = safeJson(text);
    const body = errorBodySchema.safeParse(parsed);
    const code = body.success ? body.data.error.code : undefined;
    const said = body.success ? (body.data.error.message ?? '') : truncate(text, 300);
    const requestId = body.success ? body.data.error.innerError?.['request-id'] : undefined;
    let message = `Microsoft Graph ${operation} failed (HTTP ${status}${code ? ` ${code}` : ''}): ${said || response.statusText || 'no message'}`;
    if (status === 401) message += `. The token must be issued for ${this.scope}.`;
    if (status === 403) message += '. The app may lack the Graph permission this call needs (e.g. User.Read.All, Organization.Read.All).';
    return new GraphRequestError(this.scrub(message), operation, status, code, requestId, {
      transient: status === 429 || status >= 500,
    });
  }

  private scrub(text: string): string {
    return redact(text, [this.tokens.last]);
  }

  private emit(type: ApiEventType, operation: string, status?: number): void {
    emitApiEvent(this.onApiEvent, { api: 'graph', type, operation, ...(status === undefined ? {} : { status }) });
  }
}

export function createGraphClient(options: GraphClientOptions): GraphClient {
  let base: URL;
  try {
    base = new URL(options.baseUrl);
  } catch (error) {
    throw new ValidationError(`The Graph base URL is not a URL: ${options.baseUrl}`, 'graph client options', [], { cause: error });
  }
  const root = options.baseUrl.replace(/\/+$/, '');
  if (/\/(v1\.0|beta)$/i.test(base.pathname.replace(/\/+$/, ''))) {
    throw new ValidationError(`The Graph base URL must not include the API version: ${options.baseUrl}`, 'graph client options');
  }
  const apiRoot = `${root}/${API_VERSION}`;
  const tokens: TokenTracker = { last: undefined };
  const emit = (type: ApiEventType, operation: string, extra: { status?: number; delayMs?: number; attempt?: number } = {}) =>
    emitApiEvent(options.onApiEvent, { api: 'graph', type, operation, ...extra });

  const retry = new RetryHandler(
    new RetryHandlerOptions(
      options.retry?.delaySeconds ?? DEFAULT_RETRY_DELAY_SECONDS,
      options.retry?.maxRetries ?? MAX_RETRIES,
      (_delay, attempt, request, fetchOptions, response) => {
        const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
        emit('retry', operationOf(request, fetchOptions), {
          status: response.status,
          attempt: attempt + 1,
          ...(retryAfterMs === undefined ? {} : { delayMs: retryAfterMs }),
        });
        // The abandoned answer's body is never read; release its connection.
        void response.body?.cancel().catch(() => undefined);
        return true;
      },
    ),
  );
  const auth = new OriginAuthenticationHandler(
    new TokenCredentialAuthenticationProvider(options.credential, { scopes: [options.scope] }),
    base.origin,
    options.scope,
    tokens,
  );
  const counter = new CallCounter(emit);
  // Auth sits below the retry handler so each attempt asks the credential (which caches) afresh.
  retry.setNext(auth);
  auth.setNext(counter);
  counter.setNext(new HTTPMessageHandler());
  return new GraphClient(retry, apiRoot, options.scope, tokens, options.onApiEvent);
}

interface TokenTracker {
  /** Kept only to scrub the token from text that ends up in an error. */
  last: string | undefined;
}

/** Attaches the bearer token to requests for our origin only; strips it from any other. */
class OriginAuthenticationHandler implements Middleware {
  private next: Middleware | undefined;

  constructor(
    private readonly provider: TokenCredentialAuthenticationProvider,
    private readonly origin: string,
    private readonly scope: string,
    private readonly tokens: TokenTracker,
  ) {}

  setNext(next: Middleware): void {
    this.next = next;
  }

  async execute(context: Context): Promise<void> {
    const headers = new Headers(context.options?.headers as ConstructorParameters<typeof Headers>[0]);
    if (new URL(requestUrl(context.request)).origin === this.origin) {
      let token: string;
      try {
        token = await this.provider.getAccessToken();
      } catch (error) {
        throw new ServiceError(
          redact(`Could not get a token for ${this.scope}: ${describeFailure(error)}`, [this.tokens.last]),
          'identity',
          undefined,
          undefined,
          { cause: error },
        );
      }
      this.tokens.last = token;
      headers.set('Authorization', `Bearer ${token}`);
    } else {
      headers.delete('Authorization');
    }
    context.options = { ...context.options, headers };
    await this.next?.execute(context);
  }
}

/** Reports every answered attempt, and throttling, below the retry handler so retries count. */
class CallCounter implements Middleware {
  private next: Middleware | undefined;

  constructor(private readonly emit: (type: ApiEventType, operation: string, extra?: { status?: number }) => void) {}

  setNext(next: Middleware): void {
    this.next = next;
  }

  async execute(context: Context): Promise<void> {
    await this.next?.execute(context);
    const response = context.response;
    if (!response) return;
    const operation = operationOf(context.request, context.options);
    this.emit('call', operation, { status: response.status });
    if (response.status === 429) this.emit('throttled', operation, { status: response.status });
  }
}

function requestUrl(request: Context['request']): string {
  if (typeof request === 'string') return request;
  if (request instanceof URL) return request.href;
  return (request as Request).url;
}

function operationOf(request: Context['request'], options: { method?: string } | undefined): string {
  const method = options?.method ?? (typeof request === 'object' && 'method' in request ? request.method : 'GET');
  return `${method} ${new URL(requestUrl(request)).pathname}`;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
