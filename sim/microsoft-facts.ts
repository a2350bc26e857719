/**
 * Microsoft's facts as the simulated tenant knows them: the simulator's own copy, deliberately NOT
 * imported from the product (shared/), so that the oracle in tenant.ts stays independent of the
 * scanner's rules, policy and action lists. If Microsoft changes a fact, change it here and in the
 * product separately; a disagreement then shows up as a failing comparison, which is the point.
 *
 * Sources (all public; see /work/shared/REFERENCE.md §0, §2.3, §2.4, §3.1, §8 for the citations):
 * - Actions per logon type, the managed default lists and the folder-permission aliases:
 *   Microsoft's "Manage mailbox auditing" page (learn.microsoft.com/purview/audit-mailboxes, 2023
 *   copy of microsoft-365-docs audit-mailboxes.md) and the Set-Mailbox reference
 *   (office-docs-powershell, exchange/exchange-ps/ExchangePowerShell/Set-Mailbox.md).
 * - 2024 change: MailItemsAccessed and Send opened to Audit (Standard) (announced October 2023,
 *   rolled out from June 2024; office365itpros.com 2024-05-23; CISA ScubaGear removed
 *   MS.DEFENDER.6.2v1 in March 2025). Before that they were Audit (Premium) only, together with
 *   SearchQueryInitiated (never on by default). The '2023' licence model keeps the old behaviour.
 * - Unified audit log retention: 180 days Audit (Standard) for records from 2023-10-17, one year
 *   under the Audit (Premium) default policy (learn.microsoft.com/purview/audit-log-retention-policies).
 * - M365_ADVANCED_AUDITING servicePlanId 2f442157-a11c-46b9-ae5b-6e39ff4e5849 (cisagov/ScubaGear,
 *   maester365/maester); Exchange shows it as the PersistedCapabilities value M365Auditing.
 * - Error texts: the MailItemsAccessed licence error (microsoft-365-docs#1195), MessageBind's
 *   deprecation (OfficeDocs-o365seccomp#286, o365soa/Scripts#29), "already being audited"
 *   (OfficeDocs-o365seccomp#385, 2019) and the no-change warning (OfficeDocs-o365seccomp#306).
 * - Get-AdminAuditLogConfig's record: a live capture of 2026-07 (rknightion/graph2otel,
 *   internal/collectors/m365/exchangeauditconfig).
 */

/** Exchange's mailbox audit logon types, in the order Exchange prints DefaultAuditSet. */
export const LOGON_TYPES = ['Owner', 'Delegate', 'Admin'] as const;
export type LogonType = (typeof LOGON_TYPES)[number];

export const MAIL_ITEMS_ACCESSED = 'MailItemsAccessed';
export const SEND = 'Send';
export const SEARCH_QUERY_INITIATED = 'SearchQueryInitiated';
export const MESSAGE_BIND = 'MessageBind';

/** servicePlanId of M365_ADVANCED_AUDITING (Audit (Premium)). Since 2024 it decides UAL retention only. */
export const ADVANCED_AUDITING_PLAN_ID = '2f442157-a11c-46b9-ae5b-6e39ff4e5849';
/** Exchange's PersistedCapabilities value for the Advanced Auditing plan. */
export const M365_AUDITING_CAPABILITY = 'M365Auditing';
/** The Exchange Online (Plan 2) capability every E3/E5 mailbox carries. */
export const EXCHANGE_ENTERPRISE_CAPABILITY = 'BPOS_S_Enterprise';

/**
 * Which licence behaviour the simulated Exchange follows:
 * - '2026': Audit (Standard) includes MailItemsAccessed and Send; Microsoft's managed lists are the
 *   same with or without the M365Auditing capability, and Exchange accepts MailItemsAccessed on
 *   E3, shared and unlicensed mailboxes. The Advanced Auditing plan decides UAL retention only.
 * - '2023': the old behaviour: without M365Auditing the managed lists lack MailItemsAccessed, Send
 *   and SearchQueryInitiated, and Set-Mailbox refuses to add MailItemsAccessed or Send.
 */
export type LicenceModel = '2026' | '2023';
export const LICENCE_MODELS: readonly LicenceModel[] = ['2026', '2023'];

/** Actions each logon type accepts (MessageBind is not listed: Exchange Online rejects it). */
export const VALID_ACTIONS: Readonly<Record<LogonType, readonly string[]>> = Object.freeze({
  Owner: Object.freeze([
    'ApplyRecord', 'Create', 'HardDelete', 'MailboxLogin', 'MailItemsAccessed', 'Move', 'MoveToDeletedItems', 'RecordDelete',
    'SearchQueryInitiated', 'Send', 'SoftDelete', 'Update', 'UpdateCalendarDelegation', 'UpdateComplianceTag',
    'UpdateFolderPermissions', 'UpdateInboxRules',
  ]),
  Delegate: Object.freeze([
    'ApplyRecord', 'Create', 'FolderBind', 'HardDelete', 'MailItemsAccessed', 'Move', 'MoveToDeletedItems', 'RecordDelete',
    'SendAs', 'SendOnBehalf', 'SoftDelete', 'Update', 'UpdateComplianceTag', 'UpdateFolderPermissions', 'UpdateInboxRules',
  ]),
  Admin: Object.freeze([
    'ApplyRecord', 'Copy', 'Create', 'FolderBind', 'HardDelete', 'MailItemsAccessed', 'Move', 'MoveToDeletedItems',
    'RecordDelete', 'Send', 'SendAs', 'SendOnBehalf', 'SoftDelete', 'Update', 'UpdateCalendarDelegation',
    'UpdateComplianceTag', 'UpdateFolderPermissions', 'UpdateInboxRules',
  ]),
});

/**
 * Microsoft's managed default list per logon type (what a logon type in DefaultAuditSet holds) for a
 * mailbox with the M365Auditing capability — and, in 2026, for every user and shared mailbox.
 */
export const MANAGED_DEFAULTS: Readonly<Record<LogonType, readonly string[]>> = Object.freeze({
  Owner: Object.freeze([
    'ApplyRecord', 'HardDelete', 'MailItemsAccessed', 'MoveToDeletedItems', 'Send', 'SoftDelete', 'Update',
    'UpdateCalendarDelegation', 'UpdateFolderPermissions', 'UpdateInboxRules',
  ]),
  Delegate: Object.freeze([
    'ApplyRecord', 'Create', 'HardDelete', 'MailItemsAccessed', 'MoveToDeletedItems', 'SendAs', 'SendOnBehalf', 'SoftDelete',
    'Update', 'UpdateFolderPermissions', 'UpdateInboxRules',
  ]),
  Admin: Object.freeze([
    'ApplyRecord', 'Create', 'HardDelete', 'MailItemsAccessed', 'MoveToDeletedItems', 'Send', 'SendAs', 'SendOnBehalf',
    'SoftDelete', 'Update', 'UpdateCalendarDelegation', 'UpdateFolderPermissions', 'UpdateInboxRules',
  ]),
});

/** Actions that needed Audit (Premium) before 2024 (the '2023' model still applies this). */
export const PREMIUM_ONLY_2023: ReadonlySet<string> = new Set([MAIL_ITEMS_ACCESSED, SEND, SEARCH_QUERY_INITIATED]);

/** Unified audit log retention in days by licence. */
export const UAL_RETENTION_DAYS = Object.freeze({ standard: 180, premium: 365 });
/** Exchange's default AuditLogAgeLimit (mailbox audit log only), in days. */
export const EXCHANGE_DEFAULT_AUDIT_LOG_AGE_DAYS = 90;

/**
 * Mailbox types auditing-on-by-default covers. Room and equipment mailboxes are outside it: they
 * are audited only if AuditEnabled is True.
 */
export const ON_BY_DEFAULT_MAILBOX_TYPES: ReadonlySet<string> = new Set(['UserMailbox', 'SharedMailbox', 'GroupMailbox']);

/** The folder-permission trio is accepted by Set-Mailbox and stored as UpdateFolderPermissions. */
export const FOLDER_PERMISSION_ALIASES: readonly string[] = ['AddFolderPermissions', 'ModifyFolderPermissions', 'RemoveFolderPermissions'];

// Exchange's texts.
export const MIA_LICENCE_ERROR =
  'Auditing of MailItemsAccessed event is only available for users with appropriate license. Please visit the documentation to know more about this.';
export const MESSAGE_BIND_ERROR = 'MessageBind audit operation type is deprecated. Use MailItemsAccessed audit operation type instead.';
export const ALREADY_AUDITED_ERROR = 'The input operation(s) is/are already being audited.';
export const ADMIN_AUDIT_LOG_SETTINGS_NAME = 'Admin Audit Log Settings';
/** Shown when UnifiedAuditLogIngestionEnabled changes (the change takes up to an hour in Microsoft's cloud). */
export const INGESTION_CHANGE_WARNING = 'The admin audit log configuration change you specified could take up to 60 minutes to take effect.';
