import { ON_BY_DEFAULT_MAILBOX_TYPES } from '../domain/audit';
import { COMPLIANT } from './outcomes';
import { MAILBOX_TYPE_NOT_IN_POLICY, mailboxInScope } from './scope';
import type { MailboxRule } from './types';

/** `actual` when Exchange ignores the setting: the finding says so itself. */
export const IGNORED_WHILE_ORG_AUDITING_ON = 'False (ignored by Exchange while org auditing is on; set it so the mailbox stays audited if that changes)';

/**
 * AuditEnabled = False. On user and shared mailboxes Exchange ignores it while org auditing is on
 * (on-by-default covers them), so it is low: worth setting, because the mailbox would go silent if
 * org auditing were ever turned off, but no record is lost today. Room and equipment mailboxes are
 * outside on-by-default: there AuditEnabled decides whether anything is recorded, so it is high.
 */
export const mailboxAuditDisabled: MailboxRule = {
  id: 'mailbox-audit-disabled',
  target: 'mailbox',
  evaluate({ mailbox, policy }) {
    if (!mailboxInScope(policy, mailbox)) return MAILBOX_TYPE_NOT_IN_POLICY;
    if (mailbox.auditEnabled) return COMPLIANT;
    if (ON_BY_DEFAULT_MAILBOX_TYPES.has(mailbox.recipientTypeDetails)) {
      return { status: 'non-compliant', violations: [{ expected: true, actual: IGNORED_WHILE_ORG_AUDITING_ON, severity: 'low' }] };
    }
    return { status: 'non-compliant', violations: [{ expected: true, actual: false, severity: 'high' }] };
  },
};
