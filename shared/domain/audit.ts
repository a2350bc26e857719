/**
 * The audit vocabulary of Exchange Online, as the rules and the clients share it.
 * Action lists come from Microsoft's "Manage mailbox auditing" page (copied into
 * shared/rules/audit-actions.json with its source note).
 */
export const LOGON_TYPES = ['Owner', 'Delegate', 'Admin'] as const;
export type LogonType = (typeof LOGON_TYPES)[number];

/** servicePlanId of M365_ADVANCED_AUDITING (Audit (Premium)), which MailItemsAccessed depends on. */
export const ADVANCED_AUDITING_PLAN_ID = '2f442157-a11c-46b9-ae5b-6e39ff4e5849';
export const MAIL_ITEMS_ACCESSED = 'MailItemsAccessed';

/** Exchange's default retention for mailbox audit records, in days. */
export const EXCHANGE_DEFAULT_AUDIT_LOG_AGE_DAYS = 90;

/** Per-mailbox audit configuration, as read from Get-Mailbox. */
export interface MailboxAuditSnapshot {
  /** Entra object id (ExternalDirectoryObjectId): the key that joins Exchange to Graph. */
  objectId: string;
  /** Exchange's own mailbox Guid; the stable identity for Set-Mailbox. */
  exchangeGuid: string;
  userPrincipalName: string;
  primarySmtpAddress: string;
  /** UserMailbox, SharedMailbox, RoomMailbox, EquipmentMailbox, GroupMailbox, ... */
  recipientTypeDetails: string;
  auditEnabled: boolean;
  /** AuditLogAgeLimit in whole days (parsed from d.hh:mm:ss or an ISO-8601 duration). */
  auditLogAgeLimitDays: number;
  auditActions: Record<LogonType, string[]>;
  /** Logon types whose action list Microsoft still manages. */
  defaultAuditSet: LogonType[];
  /**
   * Exchange's capability flags for the mailbox, when the API returned them. Lacking
   * M365Auditing while Graph shows the plan is a signal of the group-licensing failure.
   */
  persistedCapabilities?: string[];
}

/** Get-OrganizationConfig, reduced to what auditing needs. */
export interface OrganizationAuditSnapshot {
  /** The organization's identity (its name, e.g. contoso.onmicrosoft.com). */
  identity: string;
  auditDisabled: boolean;
}

/** Get-MailboxAuditBypassAssociation: one per user or computer account. */
export interface BypassAssociation {
  /** Identity accepted by Set-MailboxAuditBypassAssociation. */
  identity: string;
  /** Stable id of the association (its Guid). */
  objectId: string;
  auditBypassEnabled: boolean;
}

/** How the Advanced Auditing plan reaches a user, resolved from Graph licences. */
export interface AdvancedAuditingLicence {
  /** At least one assigned SKU contains the Advanced Auditing service plan. */
  skuIncludesPlan: boolean;
  /** The plan is enabled in some assignment and `Enabled` in assignedPlans. */
  enabled: boolean;
  /** SKU ids whose assignment disables the plan. */
  disabledInSkus: string[];
  /** capabilityStatus of the plan in assignedPlans, or null when absent. */
  capabilityStatus: string | null;
  /** Where the enabled plan comes from. */
  source: 'direct' | 'group' | 'direct-and-group' | 'none';
  /** Groups that carry the plan to the user (group-based licensing). */
  viaGroups: string[];
}

export interface UserLicenceState {
  objectId: string;
  userPrincipalName: string;
  usageLocation: string | null;
  advancedAuditing: AdvancedAuditingLicence;
}
