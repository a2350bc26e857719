/**
 * One local HTTP server for the whole simulated tenant: the App Service managed-identity endpoint,
 * Microsoft Graph (/v1.0/...) and Exchange Online's InvokeCommand (/adminapi/beta/...). The
 * production clients reach it unchanged through GRAPH_BASE_URL / EXCHANGE_BASE_URL and
 * IDENTITY_ENDPOINT / IDENTITY_HEADER.
 *
 * Around the APIs it adds what makes a client's life hard in Microsoft's cloud: token checks
 * (signature, lifetime, tenant, audience), latency, Exchange's per-tenant concurrency limit, and
 * scripted or random faults.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleExchange, exchangeProtocolError, parseInvokeBody, EXCHANGE_DEFAULT_PAGE_SIZE, type InvokeInput } from './exchange-api';
import { FaultInjector, type FaultApi, type FaultSpec, type InjectedFault, type RandomFaults } from './faults';
import { graphError, handleGraph } from './graph-api';
import { createReceivedRequests, header, JSON_ODATA, type ApiContext, type ReceivedRequests, type SimRequest, type SimResponse } from './http-types';
import { handleIdentity } from './identity-api';
import { PagedQueryStore } from './paging';
import { nextGuid, streamFor } from './prng';
import { SimStats } from './stats';
import type { SimulatedTenant } from './tenant';
import { EXCHANGE_APP_ID, EXCHANGE_RESOURCE, GRAPH_APP_ID, GRAPH_RESOURCE, TokenService, type TokenFailure } from './tokens';
import cmdletTable from './exchange-cmdlets.json';

export const IDENTITY_PATH = '/msi/token';
const MAX_BODY_BYTES = 8 * 1024 * 1024;
const CONCURRENCY_MESSAGE = 'You have reached the maximum number of concurrent requests per tenant. Please wait and try again.';

export interface StartSimulatedTenantOptions {
  tenant: SimulatedTenant;
  /** 0 (the default) picks a free port. The server listens on 127.0.0.1 only. */
  port?: number;
  /** Added to every Graph and Exchange response (not to the identity endpoint). */
  latencyMs?: number;
  /** Scripted faults to start with, and an optional random fault rate. */
  faults?: { script?: FaultSpec[]; random?: RandomFaults };
  /** Exchange requests beyond this many in flight get the concurrency error. */
  concurrencyLimit?: number;
  /** Exchange page size without `Prefer: odata.maxpagesize` (default 100). */
  exchangeDefaultPageSize?: number;
  /** Lifetime of issued tokens (default 3600 s). */
  tokenLifetimeSeconds?: number;
  /** HMAC key for tokens; random per server by default, so tokens never outlive their server. */
  signingKey?: Buffer;
  /** The IDENTITY_HEADER secret; random per server by default. */
  identityHeader?: string;
  /** Clock for token lifetimes and error dates (ms since epoch). */
  now?: () => number;
}

export interface SimulatedTenantServer {
  /** http://127.0.0.1:<port>: both GRAPH_BASE_URL and EXCHANGE_BASE_URL. */
  baseUrl: string;
  /** IDENTITY_ENDPOINT for @azure/identity's App Service managed identity. */
  identityEndpoint: string;
  /** IDENTITY_HEADER. */
  identityHeader: string;
  tenantId: string;
  tenant: SimulatedTenant;
  stats: SimStats;
  faults: FaultInjector;
  /**
   * Write requests received so far: `received.assignLicense` holds every assignLicense body with
   * its user id (e.g. to assert that a direct assignment kept the group's disabled plans),
   * `received.reprocessLicenseAssignment`, `received.groupAssignLicense`, `received.cmdlets`
   * (Exchange Set-* calls); `received.clear()` empties them.
   */
  received: ReceivedRequests;
  /** A token as the identity endpoint would issue it, for tests that do not go through @azure/identity. */
  issueToken(resource: string, options?: { lifetimeSeconds?: number; tenantId?: string }): string;
  setLatency(latencyMs: number): void;
  setConcurrencyLimit(limit: number | undefined): void;
  stop(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function startSimulatedTenant(options: StartSimulatedTenantOptions): Promise<SimulatedTenantServer> {
  const { tenant } = options;
  const now = options.now ?? Date.now;
  let latencyMs = checkedLatency(options.latencyMs ?? 0);
  let concurrencyLimit = checkedLimit(options.concurrencyLimit);
  const identityHeader = options.identityHeader ?? randomBytes(18).toString('base64url');
  const ids = streamFor(tenant.seed, 'managed-identity');
  const tokens = new TokenService({
    signingKey: options.signingKey ?? randomBytes(32),
    tenantId: tenant.tenantId,
    principalId: nextGuid(ids),
    clientId: nextGuid(ids),
    now,
    lifetimeSeconds: options.tokenLifetimeSeconds ?? 3600,
  });
  const stats = new SimStats();
  const faults = new FaultInjector(tenant.seed);
  for (const spec of options.faults?.script ?? []) faults.enqueue(spec);
  faults.setRandom(options.faults?.random);
  const requestIds = streamFor(tenant.seed, 'request-ids');
  let exchangeInFlight = 0;

  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const ctx: ApiContext = {
    tenant,
    baseUrl,
    now,
    exchangeDefaultPageSize: options.exchangeDefaultPageSize ?? EXCHANGE_DEFAULT_PAGE_SIZE,
    graphQueries: new PagedQueryStore(streamFor(tenant.seed, 'graph-skiptokens')),
    exchangeQueries: new PagedQueryStore(streamFor(tenant.seed, 'exchange-skiptokens')),
    received: createReceivedRequests(),
  };

  const dispatch = (api: FaultApi, req: SimRequest, invoke: InvokeInput | SimResponse | undefined): SimResponse => {
    const denied = authenticate(api, req, tokens, ctx);
    if (denied) {
      stats.unauthorized++;
      return denied;
    }
    const fault = faults.take(api, { cmdlet: invoke && 'cmdletName' in invoke ? invoke.cmdletName : undefined, path: req.url.pathname.replace(/^\/v1\.0/i, '') });
    if (fault) {
      stats.countFault(fault.kind);
      return faultResponse(api, fault, ctx, req);
    }
    if (api === 'graph') {
      const { route, response } = handleGraph(ctx, req);
      stats.countGraphRoute(route);
      return response;
    }
    return exchange(ctx, req, invoke);
  };

  server.on('request', (incoming: IncomingMessage, outgoing: ServerResponse) => {
    const requestId = nextGuid(requestIds);
    void (async () => {
      try {
        const body = await readBody(incoming);
        const req: SimRequest = { method: incoming.method ?? 'GET', url: new URL(incoming.url ?? '/', baseUrl), headers: incoming.headers, body, requestId };
        const path = req.url.pathname.toLowerCase().replace(/\/+$/, '');
        if (path === IDENTITY_PATH) {
          stats.calls.identity++;
          send(outgoing, req, handleIdentity(req, tokens, identityHeader));
          return;
        }
        const api: FaultApi | undefined = path === '/v1.0' || path.startsWith('/v1.0/') ? 'graph' : path.startsWith('/adminapi/') ? 'exchange' : undefined;
        if (!api) {
          send(outgoing, req, path === '' ? info(ctx) : { status: 404, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error: { code: 'NotFound', message: `No simulated API at '${req.url.pathname}'.` } }) });
          return;
        }
        stats.calls[api]++;
        let invoke: InvokeInput | SimResponse | undefined;
        if (api === 'exchange' && req.method.toUpperCase() === 'POST') {
          invoke = parseInvokeBody(body);
          if ('cmdletName' in invoke) stats.countCmdlet(canonicalCmdlet(invoke.cmdletName));
        }
        if (api === 'exchange' && concurrencyLimit !== undefined && exchangeInFlight >= concurrencyLimit) {
          stats.concurrencyRejections++;
          await sleep(latencyMs);
          send(outgoing, req, concurrencyResponse());
          return;
        }
        if (api === 'exchange') stats.maxExchangeInFlight = Math.max(stats.maxExchangeInFlight, ++exchangeInFlight);
        try {
          if (latencyMs > 0) await sleep(latencyMs);
          send(outgoing, req, dispatch(api, req, invoke));
        } finally {
          if (api === 'exchange') exchangeInFlight--;
        }
      } catch (error) {
        if (error instanceof BodyTooLargeError) {
          outgoing.writeHead(413, { 'content-type': 'application/json', 'request-id': requestId }).end(JSON.stringify({ error: { code: 'RequestEntityTooLarge', message: error.message } }));
          return;
        }
        const message = error instanceof Error ? error.message : String(error);
        if (!outgoing.headersSent) {
          outgoing.writeHead(500, { 'content-type': 'application/json', 'request-id': requestId }).end(JSON.stringify({ error: { code: 'InternalServerError', message: `Simulator error: ${message}` } }));
        }
      }
    })();
  });

  return {
    baseUrl,
    identityEndpoint: `${baseUrl}${IDENTITY_PATH}`,
    identityHeader,
    tenantId: tenant.tenantId,
    tenant,
    stats,
    faults,
    received: ctx.received,
    issueToken: (resource, overrides) => tokens.issue(resource, overrides).token,
    setLatency: (ms) => {
      latencyMs = checkedLatency(ms);
    },
    setConcurrencyLimit: (limit) => {
      concurrencyLimit = checkedLimit(limit);
    },
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function checkedLatency(ms: number): number {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`latencyMs must be a non-negative number, got ${ms}`);
  return ms;
}

function checkedLimit(limit: number | undefined): number | undefined {
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new RangeError(`concurrencyLimit must be a positive integer, got ${limit}`);
  return limit;
}

const KNOWN_CMDLETS = Object.keys(cmdletTable.cmdlets);

function canonicalCmdlet(name: string): string {
  return KNOWN_CMDLETS.find((known) => known.toLowerCase() === name.toLowerCase()) ?? name;
}

class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';
}

async function readBody(incoming: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of incoming) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLargeError(`Request bodies are limited to ${MAX_BODY_BYTES} bytes.`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(outgoing: ServerResponse, req: SimRequest, response: SimResponse): void {
  if (response.destroy) {
    outgoing.socket?.destroy();
    return;
  }
  const headers: Record<string, string> = {
    'request-id': req.requestId,
    'client-request-id': header(req.headers, 'client-request-id') ?? req.requestId,
    ...response.headers,
  };
  outgoing.writeHead(response.status, headers).end(response.body);
}

function info(ctx: ApiContext): SimResponse {
  const tenant = ctx.tenant;
  return {
    status: 200,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify({
      name: 'Audit Warden simulated tenant',
      tenantId: tenant.tenantId,
      domain: tenant.domain,
      mailboxes: tenant.mailboxes.length,
      graph: `${ctx.baseUrl}/v1.0`,
      exchange: `${ctx.baseUrl}/adminapi/beta/${tenant.tenantId}/InvokeCommand`,
      identityEndpoint: `${ctx.baseUrl}${IDENTITY_PATH}`,
    }),
  };
}

// ---------------------------------------------------------------------------------------------
// Exchange routing

function exchange(ctx: ApiContext, req: SimRequest, invoke: InvokeInput | SimResponse | undefined): SimResponse {
  const segments = req.url.pathname.split('/').filter((segment) => segment !== '');
  const [adminapi, version, tenantSegment, operation] = segments;
  if (segments.length !== 4 || adminapi?.toLowerCase() !== 'adminapi' || version?.toLowerCase() !== 'beta' || operation?.toLowerCase() !== 'invokecommand') {
    return exchangeProtocolError(404, 'NotFound', `The resource '${req.url.pathname}' was not found. The simulated tenant serves POST /adminapi/beta/{tenant}/InvokeCommand.`);
  }
  const tenant = ctx.tenant;
  const wanted = decodeURIComponent(tenantSegment ?? '').toLowerCase();
  if (wanted !== tenant.tenantId && wanted !== tenant.domain.toLowerCase()) {
    return exchangeProtocolError(404, 'NotFound', `The tenant '${tenantSegment ?? ''}' was not found.`);
  }
  if (req.method.toUpperCase() !== 'POST') return exchangeProtocolError(405, 'MethodNotAllowed', 'InvokeCommand accepts POST only.');
  const format = header(req.headers, 'x-responseformat');
  if (format !== undefined && format.toLowerCase() !== 'json') {
    return exchangeProtocolError(400, 'BadRequest', `X-ResponseFormat '${format}' is not supported by the simulated tenant; send json or omit the header.`);
  }
  if (!invoke) return exchangeProtocolError(400, 'BadRequest', 'The request body is empty.');
  if (!('cmdletName' in invoke)) return invoke;
  return handleExchange(ctx, req, invoke);
}

// ---------------------------------------------------------------------------------------------
// Tokens

const AUDIENCES: Record<FaultApi, string[]> = {
  graph: [GRAPH_RESOURCE, GRAPH_APP_ID],
  exchange: [EXCHANGE_RESOURCE, EXCHANGE_APP_ID],
};

const GRAPH_MESSAGES: Record<TokenFailure | 'missing', string> = {
  missing: 'Access token is empty.',
  malformed: 'CompactToken parsing failed with error code: 80049217',
  signature: 'Access token validation failure.',
  expired: 'Lifetime validation failed, the token is expired.',
  'not-yet-valid': 'Lifetime validation failed, the token is not yet valid.',
  audience: 'Access token validation failure. Invalid audience.',
  tenant: 'Access token validation failure. Invalid tenant.',
};

function exchangeDiagnostics(reason: TokenFailure | 'missing', audience: string | undefined): { message: string; diagnostics: string } {
  switch (reason) {
    case 'missing':
      return { message: 'The request has no bearer token.', diagnostics: '2000001;reason="The request has no bearer token.";error_category="invalid_token"' };
    case 'audience':
      return {
        message: `The audience claim value is invalid '${audience ?? ''}'.`,
        diagnostics: `2000003;reason="The audience claim value is invalid '${audience ?? ''}'.";error_category="invalid_resource"`,
      };
    case 'expired':
    case 'not-yet-valid':
      return { message: 'The token has expired.', diagnostics: '2000008;reason="The token has expired.";error_category="invalid_lifetime"' };
    case 'tenant':
      return { message: 'The token was issued for another tenant.', diagnostics: '2000011;reason="The tenant of the token does not match.";error_category="invalid_tenant"' };
    default:
      return { message: 'The token is not valid.', diagnostics: '2000002;reason="The token signature is not valid.";error_category="invalid_signature"' };
  }
}

function authenticate(api: FaultApi, req: SimRequest, tokens: TokenService, ctx: ApiContext): SimResponse | undefined {
  const authorization = header(req.headers, 'authorization');
  const bearer = authorization && /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
  let reason: TokenFailure | 'missing';
  let audience: string | undefined;
  if (!bearer) {
    reason = 'missing';
  } else {
    const check = tokens.verify(bearer, AUDIENCES[api]);
    if (check.ok) return undefined;
    reason = check.reason;
    audience = check.claims?.aud;
  }
  if (api === 'graph') {
    return graphError(ctx, req, 401, 'InvalidAuthenticationToken', GRAPH_MESSAGES[reason], {
      'www-authenticate': `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="${GRAPH_APP_ID}"`,
    });
  }
  const { message, diagnostics } = exchangeDiagnostics(reason, audience);
  const response = exchangeProtocolError(401, 'Unauthorized', message);
  response.headers['www-authenticate'] =
    `Bearer client_id="${EXCHANGE_APP_ID}", trusted_issuers="00000001-0000-0000-c000-000000000000@*", token_types="app_asserted_user_v1 service_asserted_app_v1", error="invalid_token"`;
  response.headers['x-ms-diagnostics'] = diagnostics;
  return response;
}

// ---------------------------------------------------------------------------------------------
// Faults

function concurrencyResponse(): SimResponse {
  return { status: 500, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: CONCURRENCY_MESSAGE };
}

function faultResponse(api: FaultApi, fault: InjectedFault, ctx: ApiContext, req: SimRequest): SimResponse {
  const retryAfter = (seconds: number | undefined): Record<string, string> => (seconds === undefined ? {} : { 'retry-after': String(seconds) });
  switch (fault.kind) {
    case '429':
    case '429-no-retry-after': {
      const headers = fault.kind === '429' ? retryAfter(fault.retryAfterSeconds ?? 1) : {};
      if (api === 'graph') return graphError(ctx, req, 429, 'TooManyRequests', 'Too many requests.', headers);
      const response = exchangeProtocolError(429, 'TooManyRequests', 'The request was throttled. Please retry after some time.');
      Object.assign(response.headers, headers, { 'rate-limit-remaining': '0', 'rate-limit-reset': new Date(ctx.now() + 1000 * (fault.retryAfterSeconds ?? 1)).toISOString() });
      return response;
    }
    case '503': {
      const headers = retryAfter(fault.retryAfterSeconds);
      if (api === 'graph') return graphError(ctx, req, 503, 'serviceNotAvailable', 'Service unavailable. Please try again later.', headers);
      const response = exchangeProtocolError(503, 'ServiceUnavailable', 'The service is temporarily unavailable. Please try again later.');
      Object.assign(response.headers, headers);
      return response;
    }
    case '504':
      return {
        status: 504,
        headers: { 'content-type': 'text/html; charset=utf-8' },
        body: '<html><head><title>504 Gateway Time-out</title></head><body><h1>504 Gateway Time-out</h1><p>The upstream server did not respond in time.</p></body></html>',
      };
    case 'concurrency':
      return concurrencyResponse();
    case 'malformed-json':
      return { status: 200, headers: { 'content-type': JSON_ODATA }, body: '{"@odata.context":"truncated","value":[{"Name":"trunc' };
    case 'plain-text-error':
      return { status: 502, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'Bad Gateway: the upstream server returned an invalid response.' };
    case 'connection-reset':
      return { status: 0, headers: {}, body: '', destroy: true };
  }
}
