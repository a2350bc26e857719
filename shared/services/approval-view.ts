import type { ApprovalChangeView } from '../approval/page';
import type { RuleId } from '../domain/finding';
import type { RemediationPlan } from '../remediation/plan';
import type { ApprovalRequest } from '../store/approvals';
import { textOf } from '../text';

/**
 * One approval request as a person reads it: the digest card, the confirmation page and the
 * decision card all describe it through here, so the three never disagree about what a request
 * would change.
 */
export interface ApprovalRequestSummary {
  ruleId: RuleId;
  /** The object's UPN, or "N objects (first, …)" for a request that covers several. */
  objectUpn: string;
  objectId?: string;
  logonType?: string;
  /** The exact call for one plan; one call per line for several. */
  change: string;
  plans: number;
}

/** Objects named in a multi-plan request's summary before "…". */
const NAMED_OBJECTS = 3;

export function summariseApprovalRequest(request: Pick<ApprovalRequest, 'plans' | 'ruleIds'>): ApprovalRequestSummary {
  const [first] = request.plans;
  // A stored request always has a plan (the repository refuses an empty one); ruleIds is the fallback.
  const ruleId = first?.ruleId ?? request.ruleIds[0] ?? 'org-audit-disabled';
  if (!first) return { ruleId, objectUpn: '(no objects)', change: '(no changes)', plans: 0 };
  if (request.plans.length === 1) {
    return {
      ruleId,
      objectUpn: first.userPrincipalName,
      objectId: first.objectId,
      ...(first.logonType ? { logonType: first.logonType } : {}),
      change: first.description,
      plans: 1,
    };
  }
  const names = request.plans.slice(0, NAMED_OBJECTS).map((plan: RemediationPlan) => plan.userPrincipalName);
  const more = request.plans.length > NAMED_OBJECTS ? ', …' : '';
  return {
    ruleId,
    objectUpn: `${request.plans.length} objects (${names.join(', ')}${more})`,
    change: request.plans.map((plan) => plan.description).join('\n'),
    plans: request.plans.length,
  };
}

/** What the confirmation and result pages show for a request. */
export function approvalChangeView(
  request: ApprovalRequest,
  linkExpiresAt: Date,
  finding?: { expected: unknown; actual: unknown },
): ApprovalChangeView {
  const summary = summariseApprovalRequest(request);
  return {
    requestId: request.requestId,
    ruleId: summary.ruleId,
    objectUpn: summary.objectUpn,
    ...(summary.objectId ? { objectId: summary.objectId } : {}),
    ...(summary.logonType ? { logonType: summary.logonType } : {}),
    change: summary.change,
    ...(finding ? { expected: formatValue(finding.expected), actual: formatValue(finding.actual) } : {}),
    expiresAt: linkExpiresAt,
  };
}

function formatValue(value: unknown): string {
  if (Array.isArray(value)) return value.length === 0 ? '(none)' : value.join(', ');
  if (value === null || value === undefined) return '(not set)';
  return textOf(value);
}
