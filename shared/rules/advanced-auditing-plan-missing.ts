import { COMPLIANT, notApplicable } from './outcomes';
import { MAILBOX_TYPE_NOT_IN_POLICY, NO_LICENCE, mailboxInScope } from './scope';
import type { MailboxRule } from './types';

const NO_SKU_WITH_PLAN = notApplicable('none of the user\'s SKUs includes the Advanced Auditing plan');

/**
 * `expected` is "Enabled"; `actual` says why the plan is off, in the order that tells a person
 * where to look: disabled in the licence assignment (with the SKU ids), absent from assignedPlans,
 * or present with another capabilityStatus (Suspended, Warning, ...).
 */
export const advancedAuditingPlanMissing: MailboxRule = {
  id: 'advanced-auditing-plan-missing',
  target: 'mailbox',
  evaluate({ mailbox, licence, policy }) {
    if (!mailboxInScope(policy, mailbox)) return MAILBOX_TYPE_NOT_IN_POLICY;
    if (!licence) return NO_LICENCE;
    const plan = licence.advancedAuditing;
    if (!plan.skuIncludesPlan) return NO_SKU_WITH_PLAN;
    if (plan.enabled) return COMPLIANT;
    return { status: 'non-compliant', violations: [{ expected: 'Enabled', actual: planState(plan) }] };
  },
};

function planState(plan: { disabledInSkus: string[]; capabilityStatus: string | null }): string {
  if (plan.disabledInSkus.length > 0) {
    return `disabled in the licence assignment of SKU ${[...plan.disabledInSkus].sort().join(', ')}`;
  }
  if (plan.capabilityStatus === null) return 'not in assignedPlans';
  return `capabilityStatus ${plan.capabilityStatus}`;
}
