import { COMPLIANT } from './outcomes';
import { MAILBOX_TYPE_NOT_IN_POLICY, mailboxInScope } from './scope';
import type { MailboxRule } from './types';

/**
 * AuditLogAgeLimit below the policy's minimum. It governs only the mailbox's own audit log
 * (Recoverable Items\Audits, read by the retiring Search-MailboxAuditLog), not the unified audit
 * log an investigation searches: hygiene, hence low. `expected` reads ">= 180 days"; `actual` is
 * AuditLogAgeLimit in days.
 */
export const mailboxAuditLogAgeShort: MailboxRule = {
  id: 'mailbox-audit-log-age-short',
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
