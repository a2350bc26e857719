import { COMPLIANT } from './outcomes';
import { MAILBOX_TYPE_NOT_IN_POLICY, mailboxInScope } from './scope';
import type { MailboxRule } from './types';

/** `expected` reads ">= 180 days" (the policy's minimum); `actual` is AuditLogAgeLimit in days. */
export const retentionTooShort: MailboxRule = {
  id: 'retention-too-short',
  target: 'mailbox',
  evaluate({ mailbox, policy }) {
    if (!mailboxInScope(policy, mailbox)) return MAILBOX_TYPE_NOT_IN_POLICY;
    const minimum = policy.minimumAuditLogAgeDays;
    if (mailbox.auditLogAgeLimitDays >= minimum) return COMPLIANT;
    return {
      status: 'non-compliant',
      violations: [{ expected: `>= ${minimum} days`, actual: mailbox.auditLogAgeLimitDays }],
    };
  },
};
