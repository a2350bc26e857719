import { COMPLIANT, notApplicable } from './outcomes';
import { MAILBOX_TYPE_NOT_IN_POLICY, NO_LICENCE, mailboxInScope } from './scope';
import type { MailboxRule } from './types';

export const M365_AUDITING_CAPABILITY = 'M365Auditing';
const M365_AUDITING_LOWER = M365_AUDITING_CAPABILITY.toLowerCase();
export const EXPECTED_ACCEPTED = 'MailItemsAccessed accepted by Exchange';
export const SIGNAL_REFUSED = 'Exchange refused MailItemsAccessed';
export const SIGNAL_NO_CAPABILITY = 'PersistedCapabilities lacks M365Auditing';

const PLAN_NOT_ENABLED = notApplicable('the Advanced Auditing plan is not enabled (advanced-auditing-plan-missing covers it)');
const NOT_ONLY_VIA_GROUP = notApplicable('the Advanced Auditing plan is assigned directly');

/**
 * The group-licensing failure: Graph shows the plan enabled, but it reaches the user only through a
 * group and Exchange does not act on it. Evidence is Exchange refusing MailItemsAccessed, or — a
 * read signal, not a proof (REFERENCE.md §8) — PersistedCapabilities returned without M365Auditing.
 * When Exchange did not return PersistedCapabilities only the refusal counts.
 *
 * `expected` is EXPECTED_ACCEPTED; `actual` lists the evidence, then the groups that carry the plan
 * (the documented fix toggles the plan in those groups).
 */
export const licenceInheritedBlocksMia: MailboxRule = {
  id: 'licence-inherited-blocks-mia',
  target: 'mailbox',
  evaluate({ mailbox, licence, policy, mailItemsAccessedRefused }) {
    if (!mailboxInScope(policy, mailbox)) return MAILBOX_TYPE_NOT_IN_POLICY;
    if (!licence) return NO_LICENCE;
    const plan = licence.advancedAuditing;
    if (!plan.enabled) return PLAN_NOT_ENABLED;
    if (plan.source !== 'group') return NOT_ONLY_VIA_GROUP;

    const capabilities = mailbox.persistedCapabilities;
    const capabilityMissing =
      capabilities !== undefined && !capabilities.some((capability) => capability.toLowerCase() === M365_AUDITING_LOWER);
    if (!mailItemsAccessedRefused && !capabilityMissing) return COMPLIANT;

    const actual: string[] = [];
    if (mailItemsAccessedRefused) actual.push(SIGNAL_REFUSED);
    if (capabilityMissing) actual.push(SIGNAL_NO_CAPABILITY);
    if (plan.viaGroups.length > 0) actual.push(`plan only via group ${[...plan.viaGroups].sort().join(', ')}`);
    return { status: 'non-compliant', violations: [{ expected: EXPECTED_ACCEPTED, actual }] };
  },
};
