import { UNIFIED_AUDIT_RETENTION_DAYS } from '../domain/audit';
import type { AuditPolicy } from '../config/policy';
import { COMPLIANT } from './outcomes';
import { MAILBOX_TYPE_NOT_IN_POLICY, mailboxInScope } from './scope';
import type { MailboxRule, MailboxRuleInput } from './types';

/** How long the unified audit log keeps a user's records, and what decides it. */
export interface UnifiedAuditRetention {
  days: number;
  source: string;
}

/**
 * The unified audit log retention that applies to this mailbox's records (REFERENCE.md §0, §2.4):
 * the first declared audit retention policy that covers the user (custom policies outrank the
 * default one), else one year where Graph shows the Audit (Premium) plan enabled, else 180 days
 * (Audit (Standard); shared and unlicensed mailboxes too). Whether an E5 user with the plan disabled
 * keeps a year is undocumented, so a disabled plan counts as 180: the shorter reading never
 * produces a false "kept long enough".
 */
export function unifiedAuditRetention(
  policy: AuditPolicy,
  input: Pick<MailboxRuleInput, 'mailbox' | 'licence'>,
): UnifiedAuditRetention {
  const upn = input.mailbox.userPrincipalName.toLowerCase();
  const objectId = input.mailbox.objectId.toLowerCase();
  for (const declared of policy.auditRetentionPolicies) {
    const covers =
      declared.users === 'all' || declared.users.some((user) => [upn, objectId].includes(user.trim().toLowerCase()));
    if (covers) return { days: declared.days, source: `audit retention policy ${declared.name ? `"${declared.name}"` : 'declared in the policy'}` };
  }
  if (input.licence?.advancedAuditing.enabled) {
    return { days: UNIFIED_AUDIT_RETENTION_DAYS.premium, source: 'Audit (Premium) default policy' };
  }
  return { days: UNIFIED_AUDIT_RETENTION_DAYS.standard, source: 'Audit (Standard)' };
}

/**
 * The evidence itself ages out: the unified audit log keeps this user's records for less than the
 * policy's minimum. `expected` reads ">= 365 days"; `actual` "180 days (Audit (Standard))". Nothing
 * over Exchange REST can change it (licence or Purview retention policy), so it is report-only.
 */
export const auditRetentionTooShort: MailboxRule = {
  id: 'audit-retention-too-short',
  target: 'mailbox',
  evaluate(input) {
    const { policy, mailbox } = input;
    if (!mailboxInScope(policy, mailbox)) return MAILBOX_TYPE_NOT_IN_POLICY;
    const minimum = policy.minimumUnifiedAuditRetentionDays;
    const retention = unifiedAuditRetention(policy, input);
    if (retention.days >= minimum) return COMPLIANT;
    return {
      status: 'non-compliant',
      violations: [{ expected: `>= ${minimum} days`, actual: `${retention.days} days (${retention.source})` }],
    };
  },
};
