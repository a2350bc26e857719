/**
 * The audit vocabulary of Exchange Online, as the rules and the clients share it.
 * Action lists come from Microsoft's "Manage mailbox auditing" page (copied into
 * shared/rules/audit-actions.json with its source note).
 */
export const LOGON_TYPES = ['Owner', 'Delegate', 'Admin'] as const;
export type LogonType = (typeof LOGON_TYPES)[number];

/**
 * servicePlanId of M365_ADVANCED_AUDITING (Audit (Premium)). Since 2024 it decides the unified audit
 * log's default retention (1 year instead of 180 days), not whether MailItemsAccessed is recorded
 * (REFERENCE.md §0, §3.1).
 */
export const ADVANCED_AUDITING_PLAN_ID = '2f442157-a11c-46b9-ae5b-6e39ff4e5849';
export const MAIL_ITEMS_ACCESSED = 'MailItemsAccessed';

/** Exchange's default retention for mailbox audit records, in days. */
export const EXCHANGE_DEFAULT_AUDIT_LOG_AGE_DAYS = 90;

/**
 * Unified audit log retention by licence (REFERENCE.md §0, [MS-Retention]): Audit (Standard) keeps
 * records 180 days (from 2023-10-17), the Audit (Premium) default policy one year.
 */
export const UNIFIED_AUDIT_RETENTION_DAYS = { standard: 180, premium: 365 } as const;

/**
 * Mailbox types that auditing on by default covers (user, shared, Microsoft 365 Group): on them
 * Exchange ignores AuditEnabled while org auditing is on. Resource mailboxes (room, equipment) are
 * audited only when AuditEnabled is True (REFERENCE.md §0, §2.2).
 */
export const ON_BY_DEFAULT_MAILBOX_TYPES: ReadonlySet<string> = new Set(['UserMailbox', 'SharedMailbox', 'GroupMailbox']);

/** Per-mailbox audit configuration, as read from Get-Mailbox. */
export interface MailboxAuditSnapshot {
  /** Entra object id (ExternalDirectoryObjectId): the key that joins Exchange to Graph. */
  objectId: string;
  /** Exchange's own mailbox Guid; the stable identity for Set-Mailbox. */
  exchangeGuid: string;
  userPrincipalName: string;
  primarySmtpAddress: string;
  /** Exchange's Name for the mailbox's account: what a bypass association's Identity names. */
  name?: string;
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

/** Get-OrganizationConfig and Get-AdminAuditLogConfig, reduced to what auditing needs. */
export interface OrganizationAuditSnapshot {
  /** The organization's identity (its name, e.g. contoso.onmicrosoft.com). */
  identity: string;
  auditDisabled: boolean;
  /**
   * Get-AdminAuditLogConfig UnifiedAuditLogIngestionEnabled; null when it could not be read (the
   * reason is in `ingestionReadError`). Unknown never reads as on.
   */
  unifiedAuditLogIngestionEnabled: boolean | null;
  ingestionReadError?: string;
}

/**
 * Get-MailboxAuditBypassAssociation: one per user or computer account, whether or not the account
 * has a mailbox (service and admin accounts often have none).
 */
export interface BypassAssociation {
  /** Identity accepted by Set-MailboxAuditBypassAssociation (the account's name, as Exchange prints it). */
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
