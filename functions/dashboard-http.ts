import type { Dashboard } from '../shared/web/dashboard';
import { productionRoute } from '../shared/web/production';
import { dashboardHandler } from '../shared/web/routes';
import { registerRoute, toFunctionHandler } from './lib/http';

export const DASHBOARD_FUNCTION = 'dashboard';

/** GET /api/dashboard, anonymous for the same reason as the approval links; tests pass their own dashboard. */
export function createDashboardHandler(dashboard: () => Promise<Dashboard>) {
  return toFunctionHandler(dashboardHandler(dashboard));
}

registerRoute(productionRoute('dashboard'));
