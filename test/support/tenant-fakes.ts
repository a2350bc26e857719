import { LOGON_TYPES, type MailboxAuditSnapshot } from '../../shared/domain/audit';
import auditActions from '../../shared/rules/audit-actions.json';

/** A user mailbox configured as the default policy wants it, without a licence for premium actions. */
export function cleanMailbox(objectId: string, overrides: Partial<MailboxAuditSnapshot> = {}): MailboxAuditSnapshot {
  const premium = new Set(auditActions.premiumOnly);
  const lists = Object.fromEntries(
    LOGON_TYPES.map((type) => [type, auditActions.default[type].filter((action) => !premium.has(action))]),
  ) as MailboxAuditSnapshot['auditActions'];
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
