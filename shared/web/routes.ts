import { Dashboard, DASHBOARD_PAGE_HEADERS, renderDashboardMessage } from './dashboard';
import { describeError } from '../errors';
import { APPROVAL_FORM_MAX_BYTES, unavailablePage, type ApprovalFlow } from './approval-flow';
import type { HistoryApi } from './query-api';
import type { WebHandler, WebRoute } from './http';

/**
 * The app's one route table: every HTTP function and `audit-warden serve` read it, so a route is
 * declared once, with its methods, path and auth level beside its handler.
 */
export interface WebSources {
  /** The approval flow; a factory, because a misconfigured one must answer 500, not fail the host. */
  approvalFlow: () => Promise<ApprovalFlow>;
  historyApi: HistoryApi;
  dashboard: () => Promise<Dashboard>;
}

export const ROUTE_NAMES = ['approval', 'query-findings', 'query-history', 'query-events', 'query-scans', 'dashboard'] as const;
export type RouteName = (typeof ROUTE_NAMES)[number];

export function webRoutes(sources: WebSources): Record<RouteName, WebRoute> {
  const query = queryHandlers(sources.historyApi);
  return {
    // GET shows a confirmation page (link scanners fetch GETs); only POST decides, once.
    approval: { name: 'approval', methods: ['GET', 'POST'], path: 'approvals/{requestId}', authLevel: 'anonymous', handle: approvalHandler(sources.approvalFlow) },
    'query-findings': { name: 'query-findings', methods: ['GET'], path: 'findings', authLevel: 'function', handle: query['query-findings'] },
    'query-history': { name: 'query-history', methods: ['GET'], path: 'mailboxes/{mailbox}/history', authLevel: 'function', handle: query['query-history'] },
    'query-events': { name: 'query-events', methods: ['GET'], path: 'events', authLevel: 'function', handle: query['query-events'] },
    'query-scans': { name: 'query-scans', methods: ['GET'], path: 'scans', authLevel: 'function', handle: query['query-scans'] },
    dashboard: { name: 'dashboard', methods: ['GET'], path: 'dashboard', authLevel: 'anonymous', handle: dashboardHandler(sources.dashboard) },
  };
}

/**
 * The drift-history query API: JSON with continuation tokens, 400 naming a bad parameter.
 * GET /api/findings (rule, severity, status, mailbox), /api/mailboxes/{mailbox}/history (from, to,
 * at), /api/events (from, to, rule, type), /api/scans.
 */
export function queryHandlers(api: HistoryApi): Record<'query-findings' | 'query-history' | 'query-events' | 'query-scans', WebHandler> {
  return {
    'query-findings': async (request, logger) => api.findings(request.query, logger),
    'query-history': async (request, logger) => api.mailboxHistory(request.params.mailbox, request.query, logger),
    'query-events': async (request, logger) => api.events(request.query, logger),
    'query-scans': async (request, logger) => api.scans(request.query, logger),
  };
}

/**
 * GET /api/approvals/{requestId}?d=approve|reject&t=<link token> — the confirmation page; decides nothing.
 * POST /api/approvals/{requestId} (form: d, t, f, reason) — decides, once. A body declared larger than
 * any confirmation form is refused unread.
 */
export function approvalHandler(flow: () => Promise<ApprovalFlow>): WebHandler {
  return async (request, logger) => {
    let handler: ApprovalFlow;
    try {
      handler = await flow();
    } catch (error) {
      // Settings messages name the setting, never its value.
      logger.error('The approval endpoint is not configured; nothing was decided.', { error: describeError(error) });
      return unavailablePage(500);
    }
    const post = request.method.toUpperCase() === 'POST';
    const oversized = post && Number(request.headers.get('content-length') ?? '0') > APPROVAL_FORM_MAX_BYTES;
    const body = post && !oversized ? await request.text() : undefined;
    return handler.handle(
      {
        method: request.method,
        requestId: request.params.requestId,
        query: request.query,
        headers: request.headers,
        ...(body !== undefined ? { body } : {}),
        ...(oversized ? { oversized } : {}),
      },
      logger,
    );
  };
}

/**
 * GET /api/dashboard — coverage, open findings, pending approvals, recent drift and scans as one
 * page; it answers 401/403 to anyone not signed in or not an approver.
 */
export function dashboardHandler(dashboard: () => Promise<Dashboard>): WebHandler {
  return async (request, logger) => {
    let page: Dashboard;
    try {
      page = await dashboard();
    } catch (error) {
      logger.error('The dashboard is not configured.', { error: describeError(error) });
      return { status: 500, headers: { ...DASHBOARD_PAGE_HEADERS }, body: renderDashboardMessage('Unavailable', 'The app is not configured correctly; see its log.') };
    }
    return page.handle({ headers: request.headers }, logger);
  };
}
