import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PRINCIPAL_HEADERS } from '../../approval/principal';
import { loadPolicy } from '../../config/policy';
import { loadSettings } from '../../config/settings';
import { Dashboard } from '../../web/dashboard';
import { describeError, ValidationError } from '../../errors';
import type { Logger } from '../../logging';
import { ApprovalFlow } from '../../web/approval-flow';
import { HistoryService } from '../../services/history';
import { HistoryApi } from '../../web/query-api';
import type { WebRequest, WebResponse, WebRoute } from '../../web/http';
import { webRoutes } from '../../web/routes';
import type { RemediationEnvironment } from '../../app/remediation-environment';
import { TeamsNotifier } from '../../services/teams-digest';
import { parseFlags } from '../args';
import { EXIT, stderrLogger, type CliCommand, type CliIO } from '../io';
import { defaultEnvironmentFactory, type RemediationEnvironmentFactory } from './remediate';

const USAGE = `Usage: audit-warden serve [--port N] [--trust-principal-headers]

Serves the app's HTTP functions on 127.0.0.1, through the same handlers the Functions host runs:
  GET/POST /api/approvals/{requestId}   the approval links of the Teams card (confirm page, decision)
  GET      /api/findings, /api/events, /api/scans, /api/mailboxes/{mailbox}/history
  GET      /api/dashboard
Query routes need no function key here (as under "func start"). Ctrl-C stops the server.

  --port N                   port to listen on (default 7071; 0 picks a free one)
  --trust-principal-headers  believe the x-ms-client-principal* headers of every request, as if App
                             Service Authentication had set them. Anyone who can reach the port can
                             then approve as anyone: for local demos only. Without it, approval
                             requests are refused with 401 (there is no sign-in locally).

Exit codes: 0 stopped, 1 bad flags or settings, 3 the port could not be opened.`;

export interface LocalServerOptions {
  environment: RemediationEnvironment;
  /** Believe the Easy Auth headers (see USAGE). Otherwise they are removed from every request. */
  trustPrincipalHeaders: boolean;
  /** Default 7071 (as "func start"); 0 picks a free port. Always loopback. */
  port?: number;
  logger: Logger;
  /** The decision follow-up; by default from the environment's settings. */
  teams?: TeamsNotifier;
}

export interface LocalServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** Where the approval routes could not be set up (APPROVAL_SIGNING_KEY or APPROVERS), and why. */
  approvalsUnavailable?: string;
  stop(): Promise<void>;
}

/** A route of shared/web's table, with its path compiled for matching. */
interface LocalRoute {
  route: WebRoute;
  pattern: RegExp;
  params: readonly string[];
}

/** Bodies above this are refused before they are read: no route takes more than a small form. */
const MAX_BODY_BYTES = 64 * 1024;
const HOST = '127.0.0.1';

/**
 * The Functions host's part, played locally: match a route of shared/web's table (the one the HTTP
 * functions register), turn the node request into a WebRequest, run the handler and write the
 * response back. The handlers are built over this environment's tables and queues.
 */
export async function startLocalServer(options: LocalServerOptions): Promise<LocalServer> {
  const { environment, logger } = options;
  const { settings } = environment;
  const teams = options.teams ?? new TeamsNotifier({ settings });
  const state = { url: '' };

  let flow: ApprovalFlow | undefined;
  let approvalsUnavailable: string | undefined;
  try {
    flow = ApprovalFlow.fromSettings(settings, environment.services, { trustPrincipalHeaders: options.trustPrincipalHeaders, teams });
  } catch (error) {
    approvalsUnavailable = describeError(error);
  }
  const history = new HistoryService(environment.store, settings.AZURE_TENANT_ID);
  const api = new HistoryApi(() => history);
  const dashboard = () =>
    new Dashboard({
      history,
      access: { kind: 'local' },
      approvals: environment.approvals,
      ...(settings.APPROVAL_SIGNING_KEY ? { signingKey: settings.APPROVAL_SIGNING_KEY } : {}),
      // Links on the local dashboard point at PUBLIC_BASE_URL when it is set, else at this server.
      publicBaseUrl: settings.PUBLIC_BASE_URL ?? state.url,
    });

  const table = webRoutes({
    approvalFlow: async () => {
      if (!flow) throw new ValidationError(approvalsUnavailable ?? 'The approval endpoint is not configured.', 'settings');
      return flow;
    },
    historyApi: api,
    dashboard: async () => dashboard(),
  });
  const routes = Object.values(table).map(compile);

  const server = createServer((request, response) => {
    serveOne(request, response, routes, options.trustPrincipalHeaders, logger).catch((error: unknown) => {
      logger.error('serve: request failed', { error: describeError(error) });
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      response.end('Internal error; see the server log.');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 7071, HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  state.url = `http://${HOST}:${port}`;
  return {
    url: state.url,
    port,
    ...(approvalsUnavailable ? { approvalsUnavailable } : {}),
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

async function serveOne(
  request: IncomingMessage,
  response: ServerResponse,
  routes: LocalRoute[],
  trustPrincipalHeaders: boolean,
  logger: Logger,
): Promise<void> {
  const url = new URL(request.url ?? '/', `http://${request.headers.host ?? HOST}`);
  const method = (request.method ?? 'GET').toUpperCase();
  const matched = matchRoute(routes, url.pathname);
  if (!matched) return plain(response, 404, 'Not found.');
  const { route } = matched.route;
  if (!(route.methods as readonly string[]).includes(method)) return plain(response, 405, 'Method not allowed.', { allow: route.methods.join(', ') });
  const declared = Number(request.headers['content-length'] ?? '0');
  if (declared > MAX_BODY_BYTES) return plain(response, 413, 'Request body too large.');
  const body = await readBody(request);
  if (body === undefined) return plain(response, 413, 'Request body too large.');

  const webRequest: WebRequest = {
    method,
    url: url.toString(),
    params: matched.params,
    query: url.searchParams,
    headers: new Headers(headersOf(request, trustPrincipalHeaders)),
    text: async () => body.toString('utf8'),
  };
  write(response, await route.handle(webRequest, logger));
}

function write(response: ServerResponse, result: WebResponse): void {
  const json = result.jsonBody !== undefined;
  const bytes = Buffer.from(json ? JSON.stringify(result.jsonBody) : (result.body ?? ''), 'utf8');
  const headers: Record<string, string> = { ...(json ? { 'content-type': 'application/json' } : {}), ...result.headers };
  response.writeHead(result.status, headers);
  response.end(bytes);
}

/**
 * Node's headers as the Functions host passes them. A repeated header is joined with ", " (what
 * fetch's Headers does), which the principal parser refuses for identity headers. Without
 * --trust-principal-headers the identity headers are dropped here, so no handler ever sees them.
 */
function headersOf(request: IncomingMessage, trustPrincipalHeaders: boolean): Record<string, string> {
  const identity = new Set<string>(Object.values(PRINCIPAL_HEADERS));
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    if (!trustPrincipalHeaders && (identity.has(name) || name.startsWith('x-ms-client-principal'))) continue;
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

async function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function compile(route: WebRoute): LocalRoute {
  const params: string[] = [];
  const source = route.path
    .split('/')
    .map((part) => {
      const param = /^\{(\w+)\}$/.exec(part)?.[1];
      if (param === undefined) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      params.push(param);
      return '([^/]+)';
    })
    .join('/');
  return { route, pattern: new RegExp(`^/api/${source}/?$`), params };
}

function matchRoute(routes: LocalRoute[], path: string): { route: LocalRoute; params: Record<string, string> } | undefined {
  for (const candidate of routes) {
    const match = candidate.pattern.exec(path);
    if (!match) continue;
    const params: Record<string, string> = {};
    try {
      candidate.params.forEach((name, index) => (params[name] = decodeURIComponent(match[index + 1] ?? '')));
    } catch {
      return undefined;
    }
    return { route: candidate, params };
  }
  return undefined;
}

function plain(response: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
  response.end(text);
}

function untilSignalled(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

export interface ServeCommandOptions {
  openEnvironment?: RemediationEnvironmentFactory;
  /** Resolves when the server should stop (default: Ctrl-C or SIGTERM); tests pass their own. */
  untilStopped?: (server: LocalServer) => Promise<void>;
}

export function serveCommand(options: ServeCommandOptions = {}): CliCommand {
  const openEnvironment = options.openEnvironment ?? defaultEnvironmentFactory;
  const untilStopped = options.untilStopped ?? untilSignalled;
  return {
    name: 'serve',
    summary: 'serve the approval links, drift queries and dashboard locally',
    usage: USAGE,
    async run(args: string[], io: CliIO): Promise<number> {
      const { values } = parseFlags('serve', args, {
        port: { type: 'string' },
        'trust-principal-headers': { type: 'boolean', default: false },
      });
      const port = parsePort(values.port);
      const trust = values['trust-principal-headers'];
      const settings = loadSettings(io.env);
      const policy = await loadPolicy(settings.AUDIT_POLICY_PATH);
      const logger = stderrLogger(io);
      const environment = openEnvironment(settings, policy, logger, io);
      let server: LocalServer;
      try {
        server = await startLocalServer({ environment, trustPrincipalHeaders: trust, port, logger });
      } catch (error) {
        io.stderr.write(`audit-warden: serve: could not listen on ${HOST}:${port}: ${describeError(error)}\n`);
        return EXIT.service;
      }
      if (trust) {
        io.stderr.write(
          [
            'WARNING: --trust-principal-headers: this server believes the x-ms-client-principal* headers of every request.',
            `WARNING: anyone who can reach ${server.url} can approve remediations as anyone named in APPROVERS.`,
            'WARNING: use it for local demos only; in Azure, App Service Authentication sets these headers.',
            '',
          ].join('\n'),
        );
      }
      if (server.approvalsUnavailable) io.stderr.write(`warn approval routes answer 500 until fixed: ${server.approvalsUnavailable}\n`);
      io.stdout.write(`Audit Warden is serving ${server.url}\n  dashboard: ${server.url}/api/dashboard\n`);
      if (settings.PUBLIC_BASE_URL && !settings.PUBLIC_BASE_URL.startsWith(server.url)) {
        io.stdout.write(`  note: the links in Teams cards point at PUBLIC_BASE_URL, not at this server\n`);
      }
      io.stdout.write('Press Ctrl-C to stop.\n');
      await untilStopped(server);
      await server.stop();
      io.stdout.write('Stopped.\n');
      return EXIT.ok;
    },
  };
}

function parsePort(value: string | undefined): number {
  if (value === undefined) return 7071;
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65_535) throw new ValidationError(`serve: --port must be a number from 0 to 65535, not "${value}".`, 'command line');
  return Number(value);
}
