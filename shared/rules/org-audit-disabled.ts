import { COMPLIANT } from './outcomes';
import type { OrganizationRule } from './types';

/** AuditDisabled = True silences every mailbox in the tenant, whatever the mailboxes say. */
export const orgAuditDisabled: OrganizationRule = {
  id: 'org-audit-disabled',
  target: 'organization',
  evaluate({ organization }) {
    if (!organization.auditDisabled) return COMPLIANT;
    return { status: 'non-compliant', violations: [{ expected: false, actual: true }] };
  },
};
