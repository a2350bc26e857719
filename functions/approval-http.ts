import type { ApprovalFlow } from '../shared/web/approval-flow';
import { productionRoute } from '../shared/web/production';
import { approvalHandler } from '../shared/web/routes';
import { registerRoute, toFunctionHandler } from './lib/http';

export const APPROVAL_FUNCTION = 'approval';

/**
 * GET/POST /api/approvals/{requestId}: anonymous at the Functions level on purpose (a function key
 * in a Teams link would be a shared secret in every channel member's browser history); App Service
 * Authentication guards the route and the flow refuses a request without its principal (401).
 * Tests pass their own flow.
 */
export function createApprovalHandler(flow: () => Promise<ApprovalFlow>) {
  return toFunctionHandler(approvalHandler(flow));
}

registerRoute(productionRoute('approval'));
