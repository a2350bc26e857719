import { COMPLIANT } from './outcomes';
import { MAILBOX_TYPE_NOT_IN_POLICY, mailboxInScope } from './scope';
import type { MailboxRule } from './types';

export const mailboxAuditDisabled: MailboxRule = {
  id: 'mailbox-audit-disabled',
  target: 'mailbox',
  evaluate({ mailbox, policy }) {
    if (!mailboxInScope(policy, mailbox)) return MAILBOX_TYPE_NOT_IN_POLICY;
    if (mailbox.auditEnabled) return COMPLIANT;
    return { status: 'non-compliant', violations: [{ expected: true, actual: false }] };
  },
};
