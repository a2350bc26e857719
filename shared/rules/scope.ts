import type { AuditPolicy } from '../config/policy';
import type { MailboxAuditSnapshot } from '../domain/audit';
import { compilePolicy } from './compiled-policy';
import { notApplicable } from './outcomes';
import type { MailboxRuleInput, RuleOutcome } from './types';

export const MAILBOX_TYPE_NOT_IN_POLICY = notApplicable(
  'the mailbox type (RecipientTypeDetails) is not in policy.mailboxTypes',
);
export const NO_LICENCE = notApplicable('the mailbox has no user licence');
export const PREMIUM_NOT_LICENSED = notApplicable(
  'policy.mailItemsAccessedScope is "advanced-auditing" and the Audit (Premium) plan is not enabled for the user',
);

/** Whether the policy checks this mailbox at all (GroupMailbox, with its fixed action set, never is). */
export function mailboxInScope(policy: AuditPolicy, mailbox: Pick<MailboxAuditSnapshot, 'recipientTypeDetails'>): boolean {
  return compilePolicy(policy).mailboxTypes.has(mailbox.recipientTypeDetails);
}

/**
 * Why MailItemsAccessed (and Send, SearchQueryInitiated) are not required for this mailbox, or
 * undefined when they are: the mailbox is in scope and either the policy requires them everywhere
 * ("all", the default since Exchange audits them for Audit (Standard) too) or the user's Audit
 * (Premium) plan is enabled ("advanced-auditing").
 */
export function premiumExemption(input: Pick<MailboxRuleInput, 'mailbox' | 'licence' | 'policy'>): RuleOutcome | undefined {
  if (!mailboxInScope(input.policy, input.mailbox)) return MAILBOX_TYPE_NOT_IN_POLICY;
  if (input.policy.mailItemsAccessedScope === 'all') return undefined;
  if (!input.licence) return NO_LICENCE;
  return input.licence.advancedAuditing.enabled ? undefined : PREMIUM_NOT_LICENSED;
}

/** True when the policy requires MailItemsAccessed and the other premium-only actions on this mailbox. */
export function premiumActionsRequired(input: Pick<MailboxRuleInput, 'mailbox' | 'licence' | 'policy'>): boolean {
  return premiumExemption(input) === undefined;
}
