import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { loadSettings } from '../shared/config/settings';
import { Dashboard, DASHBOARD_PAGE_HEADERS, renderDashboardMessage } from '../shared/dashboard';
import { describeError } from '../shared/errors';
import { loggerFrom } from '../shared/logging';
import { HistoryService } from '../shared/services/history';
import { ApprovalRepository } from '../shared/store/approvals';
import { openStoreFromSettings } from '../shared/store/open';

export const DASHBOARD_FUNCTION = 'dashboard';

/** How the handler gets its dashboard; tests and `audit-warden serve` pass one over their own tables. */
export type DashboardFactory = () => Promise<Dashboard>;

let production: Promise<Dashboard> | undefined;

/**
 * Deployed behind App Service Authentication (Easy Auth): it signs the user in and replaces any
 * principal headers a caller sends, so they can be trusted here, and the page is for APPROVERS.
 */
const productionDashboard: DashboardFactory = () => {
  production ??= Promise.resolve().then(() => {
    const settings = loadSettings(process.env);
    const store = openStoreFromSettings(settings);
    return new Dashboard({
      history: new HistoryService(store, settings.AZURE_TENANT_ID),
      access: { kind: 'approvers', approvers: settings.APPROVERS, trustPrincipalHeaders: true },
      approvals: new ApprovalRepository(store.tables),
      ...(settings.APPROVAL_SIGNING_KEY ? { signingKey: settings.APPROVAL_SIGNING_KEY } : {}),
      ...(settings.PUBLIC_BASE_URL ? { publicBaseUrl: settings.PUBLIC_BASE_URL } : {}),
    });
  });
  production.catch(() => (production = undefined));
  return production;
};

/**
 * GET /api/dashboard — open findings per rule and severity, pending approvals, recent drift events
 * and scan runs, as one self-contained page. Anonymous at the Functions level for the same reason
 * as the approval endpoint (a browser cannot carry a function key): App Service Authentication
 * guards the route, and the page answers 401/403 to anyone not signed in or not an approver.
 */
export function createDashboardHandler(dashboard: DashboardFactory = productionDashboard) {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const logger = loggerFrom(context);
    let page: Dashboard;
    try {
      page = await dashboard();
    } catch (error) {
      logger.error('The dashboard is not configured.', { error: describeError(error) });
      return { status: 500, headers: { ...DASHBOARD_PAGE_HEADERS }, body: renderDashboardMessage('Unavailable', 'The app is not configured correctly; see its log.') };
    }
    const response = await page.handle({ headers: request.headers }, logger);
    return { status: response.status, headers: response.headers, body: response.body };
  };
}

export const dashboardHandler = createDashboardHandler();

app.http(DASHBOARD_FUNCTION, { authLevel: 'anonymous', methods: ['GET'], route: 'dashboard', handler: dashboardHandler });
