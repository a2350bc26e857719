import { COMPLIANT } from './outcomes';
import type { OrganizationRule } from './types';

/**
 * UnifiedAuditLogIngestionEnabled = False: Exchange may still audit mailboxes, but no record reaches
 * audit search (portal, Search-UnifiedAuditLog, Graph audit search) for the whole tenant. It is the
 * switch an intruder flips to go dark (ATT&CK T1562.008). When Get-AdminAuditLogConfig could not be
 * read the rule throws, so the evaluator reports an error finding: unknown never reads as on.
 */
export const auditLogIngestionDisabled: OrganizationRule = {
  id: 'audit-log-ingestion-disabled',
  target: 'organization',
  evaluate({ organization }) {
    const enabled = organization.unifiedAuditLogIngestionEnabled;
    if (enabled === null) {
      throw new Error(`Get-AdminAuditLogConfig could not be read: ${organization.ingestionReadError ?? 'no answer'}`);
    }
    if (enabled) return COMPLIANT;
    return { status: 'non-compliant', violations: [{ expected: true, actual: false }] };
  },
};
