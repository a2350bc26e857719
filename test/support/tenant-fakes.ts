import { LOGON_TYPES, type MailboxAuditSnapshot, type OrganizationAuditSnapshot, type UserLicenceState } from '../../shared/domain/audit';
import auditActions from '../../shared/rules/audit-actions.json';

/**
 * A user mailbox configured as the default policy wants it: Microsoft's managed lists, MailItemsAccessed
 * and Send included (required on every in-scope mailbox since 2024). Its unified audit log retention
 * meets the default 365 days only with a licence carrying Audit (Premium): pair it with `premiumLicence`.
 */
export function cleanMailbox(objectId: string, overrides: Partial<MailboxAuditSnapshot> = {}): MailboxAuditSnapshot {
  const lists = Object.fromEntries(LOGON_TYPES.map((type) => [type, [...auditActions.default[type]]])) as MailboxAuditSnapshot['auditActions'];
  return {
    objectId,
    exchangeGuid: `guid-${objectId}`,
    userPrincipalName: `${objectId}@contoso.com`,
    primarySmtpAddress: `${objectId}@contoso.com`,
    recipientTypeDetails: 'UserMailbox',
    auditEnabled: true,
    auditLogAgeLimitDays: 180,
    auditActions: lists,
    defaultAuditSet: [...LOGON_TYPES],
    ...overrides,
  };
}

/** A user whose licence (assigned directly) carries an enabled Audit (Premium) plan: records kept a year. */
export function premiumLicence(objectId: string): UserLicenceState {
  return {
    objectId,
    userPrincipalName: `${objectId}@contoso.com`,
    usageLocation: 'GB',
    advancedAuditing: { skuIncludesPlan: true, enabled: true, disabledInSkus: [], capabilityStatus: 'Enabled', source: 'direct', viaGroups: [] },
  };
}

/** An organization with auditing and unified audit log ingestion on. */
export function auditingOrganization(overrides: Partial<OrganizationAuditSnapshot> = {}): OrganizationAuditSnapshot {
  return Object.assign<OrganizationAuditSnapshot, Partial<OrganizationAuditSnapshot>>(
    { identity: 'contoso.onmicrosoft.com', auditDisabled: false, unifiedAuditLogIngestionEnabled: true },
    overrides,
  );
}
