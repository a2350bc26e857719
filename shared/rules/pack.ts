import { ADVANCED_AUDITING_PLAN_ID } from '../domain/audit';
import type { RemediationMode, RuleId } from '../domain/finding';
import type { AuditPolicy } from '../config/policy';
import { advancedAuditingPlanMissing } from './advanced-auditing-plan-missing';
import { auditActionsMissing } from './audit-actions-missing';
import { auditBypassEnabled } from './audit-bypass-enabled';
import { defaultAuditSetCustomised } from './default-audit-set-customised';
import { licenceInheritedBlocksMia } from './licence-inherited-blocks-mia';
import { mailboxAuditDisabled } from './mailbox-audit-disabled';
import { mailItemsAccessedMissing } from './mailitemsaccessed-missing';
import { orgAuditDisabled } from './org-audit-disabled';
import { auditLogIngestionDisabled } from './audit-log-ingestion-disabled';
import { auditRetentionTooShort } from './audit-retention-too-short';
import { mailboxAuditLogAgeShort } from './mailbox-audit-log-age-short';
import type { BypassRule, MailboxRule, OrganizationRule, Rule, RuleMetadata } from './types';

/**
 * The 2026 pack (DESIGN.md). Typed by id so that a rule id added to RULE_IDS without a rule (or
 * metadata) fails to compile. Order here is the order findings come out in.
 */
export const RULES_BY_ID: Readonly<Record<RuleId, Rule>> = {
  'org-audit-disabled': orgAuditDisabled,
  'audit-log-ingestion-disabled': auditLogIngestionDisabled,
  'audit-bypass-enabled': auditBypassEnabled,
  'mailitemsaccessed-missing': mailItemsAccessedMissing,
  'licence-inherited-blocks-mia': licenceInheritedBlocksMia,
  'audit-actions-missing': auditActionsMissing,
  'audit-retention-too-short': auditRetentionTooShort,
  'advanced-auditing-plan-missing': advancedAuditingPlanMissing,
  'mailbox-audit-disabled': mailboxAuditDisabled,
  'mailbox-audit-log-age-short': mailboxAuditLogAgeShort,
  'default-audit-set-customised': defaultAuditSetCustomised,
};

export const RULES: readonly Rule[] = Object.freeze(Object.values(RULES_BY_ID));
export const MAILBOX_RULES: readonly MailboxRule[] = Object.freeze(
  RULES.filter((rule): rule is MailboxRule => rule.target === 'mailbox'),
);
export const ORGANIZATION_RULES: readonly OrganizationRule[] = Object.freeze(
  RULES.filter((rule): rule is OrganizationRule => rule.target === 'organization'),
);
export const BYPASS_RULES: readonly BypassRule[] = Object.freeze(
  RULES.filter((rule): rule is BypassRule => rule.target === 'bypass-association'),
);

const MIA_ADD = `Set-Mailbox -Identity <mailbox> -AuditOwner @{Add='MailItemsAccessed'}`;

const FIXED_BY_SET_MAILBOX = ['set-mailbox'] as const;
const LIST_VALUES = { expected: 'the missing actions, sorted', actual: "the logon type's current list, sorted" };

/**
 * Every fact about each rule besides its logic (DESIGN.md's rules table): what reports, Teams cards
 * and the dashboard say, the default mode, which changes may fix it and how it bears on coverage.
 * `<mailbox>` etc. are placeholders.
 */
export const RULE_METADATA: Readonly<Record<RuleId, RuleMetadata>> = {
  'org-audit-disabled': {
    id: 'org-audit-disabled',
    title: 'Mailbox auditing is disabled for the whole organization',
    severity: 'critical',
    defaultMode: 'approval',
    licenceDependent: false,
    changeKinds: ['set-organization-config'],
    licenceChange: false,
    coverage: 'reads',
    values: { expected: 'false (AuditDisabled)', actual: 'true' },
    why:
      'With AuditDisabled = True, Exchange Online records no mailbox audit events at all: every mailbox\'s ' +
      'AuditEnabled, action lists and bypass settings are ignored. An investigator then has no MailItemsAccessed, ' +
      'no sends, no deletions, and breach-notification law forces the assumption that every mailbox was read. ' +
      'It takes one admin command, so an intruder with admin rights can use it to go dark.',
    fix:
      'Set-OrganizationConfig -AuditDisabled $false\n' +
      'Check: Get-OrganizationConfig | Format-List AuditDisabled (expect False). ' +
      'Then find out who changed it: search the admin audit log for Set-OrganizationConfig.',
  },
  'audit-log-ingestion-disabled': {
    id: 'audit-log-ingestion-disabled',
    title: 'Unified audit log ingestion is turned off',
    severity: 'critical',
    defaultMode: 'approval',
    licenceDependent: false,
    changeKinds: ['set-admin-audit-log-config'],
    licenceChange: false,
    coverage: 'reads',
    values: { expected: 'true (UnifiedAuditLogIngestionEnabled)', actual: 'false' },
    why:
      'With UnifiedAuditLogIngestionEnabled = False no activity reaches audit search — the Purview portal, ' +
      'Search-UnifiedAuditLog, the Management Activity API and Graph audit search — whatever every mailbox is set ' +
      'to: MailItemsAccessed records exist nowhere an investigator can read them. Turning it off is a known way ' +
      'for an intruder to hide (MITRE ATT&CK T1562.008), and it is one admin command.',
    fix:
      'Set-AdminAuditLogConfig -UnifiedAuditLogIngestionEnabled $true (Exchange Online PowerShell, not Security & Compliance)\n' +
      'It takes up to 60 minutes to take effect, and hours before searches return results. ' +
      'Check: Get-AdminAuditLogConfig | Format-List UnifiedAuditLogIngestionEnabled. ' +
      'Then search the admin audit log for Set-AdminAuditLogConfig to find who turned it off, and treat an unknown change as an incident.',
  },
  'audit-bypass-enabled': {
    id: 'audit-bypass-enabled',
    title: 'An account bypasses mailbox auditing',
    severity: 'critical',
    defaultMode: 'approval',
    licenceDependent: false,
    changeKinds: ['set-bypass-association'],
    licenceChange: false,
    // Judged per account: its reads of any mailbox go unrecorded. The mailbox's own account is
    // folded into that mailbox's Owner verdict by the coverage module.
    coverage: 'none',
    values: { expected: 'false (AuditBypassEnabled)', actual: 'true' },
    why:
      'A bypass association stops Exchange from logging anything the account does, in every mailbox, whether or ' +
      'not the account has a mailbox of its own. Legitimate uses are rare (noisy service accounts); an intruder with ' +
      'admin rights sets it on the account they use, and everything that account reads or sends becomes invisible.',
    fix:
      'Set-MailboxAuditBypassAssociation -Identity <account> -AuditBypassEnabled $false\n' +
      'List all bypasses: Get-MailboxAuditBypassAssociation -ResultSize Unlimited | ' +
      'Where-Object AuditBypassEnabled | Format-Table Identity,AuditBypassEnabled. ' +
      'Find who set it in the admin audit log (Set-MailboxAuditBypassAssociation) and treat an unknown change as an incident.',
  },
  'mailitemsaccessed-missing': {
    id: 'mailitemsaccessed-missing',
    title: 'MailItemsAccessed is not audited for a logon type',
    severity: 'high',
    defaultMode: 'auto',
    licenceDependent: true,
    changeKinds: FIXED_BY_SET_MAILBOX,
    licenceChange: false,
    coverage: 'reads',
    values: { expected: "['MailItemsAccessed']", actual: "the logon type's current list, sorted" },
    why:
      'MailItemsAccessed is the only record of which messages were read: per message for bind access (aggregated ' +
      'every 2 minutes), per folder for sync. Without it for a logon type, reads by that kind of access — the ' +
      'owner\'s own sign-in (how a stolen password or token shows up), a delegate, or an admin or application — ' +
      'leave no trace, and breach-notification law (GDPR, US state laws) then requires assuming all mail was read. ' +
      'Since 2024 Exchange audits it for Audit (Standard) (E3) mailboxes too, so lists customised before then are ' +
      'the usual cause.',
    fix:
      `${MIA_ADD}\n` +
      'Use -AuditDelegate or -AuditAdmin for those logon types. Alternatively restore Microsoft\'s managed set ' +
      '(Set-Mailbox -Identity <mailbox> -DefaultAuditSet Admin,Delegate,Owner, naming every logon type that ' +
      'should be Microsoft-managed) and re-read: a reset has been seen without MailItemsAccessed. ' +
      'Check: Get-Mailbox -Identity <mailbox> | Format-List AuditOwner,AuditDelegate,AuditAdmin,DefaultAuditSet. ' +
      'If Exchange answers "Auditing of MailItemsAccessed event is only available for users with appropriate ' +
      'license", Exchange has not applied the licence: see licence-inherited-blocks-mia.',
  },
  'licence-inherited-blocks-mia': {
    id: 'licence-inherited-blocks-mia',
    title: 'Exchange has not applied the licence that a group assigns',
    severity: 'high',
    defaultMode: 'approval',
    licenceDependent: true,
    changeKinds: ['reprocess-licence', 'assign-licence'],
    licenceChange: true,
    coverage: 'reads',
    values: { expected: 'MailItemsAccessed accepted by Exchange', actual: 'the evidence, then the groups that carry the plan' },
    why:
      'Entra shows the Audit (Premium) plan enabled, but it reaches the user only through group-based licensing ' +
      'and Exchange has not acted on it (a known failure, reported from 2020 to 2025): MailItemsAccessed is refused ' +
      '("only available for users with appropriate license") or the mailbox lacks the M365Auditing capability. The ' +
      'mailbox then silently records no evidence of which mail was read, although the portal shows the licence.',
    fix:
      'First re-run the user\'s group licence assignments (changes no plan, takes no seat):\n' +
      'Invoke-MgLicenseUser -UserId <upn>   (Graph POST /users/<id>/reprocessLicenseAssignment)\n' +
      'If Exchange still refuses after the next scan, assign the SKU directly, keeping disabled every plan the ' +
      'group disables (a direct licence with DisabledPlans=@() would switch on every service the group left off, ' +
      'and it stays after the user leaves the group):\n' +
      "Set-MgUserLicense -UserId <upn> -AddLicenses @(@{SkuId='<skuId>'; DisabledPlans=@(<the group's disabled plans>)}) -RemoveLicenses @()\n" +
      `Then retry ${MIA_ADD}; logging starts within 24 hours.`,
  },
  'audit-actions-missing': {
    id: 'audit-actions-missing',
    title: 'Audit actions required by the policy are missing',
    severity: 'medium',
    defaultMode: 'auto',
    licenceDependent: true,
    changeKinds: FIXED_BY_SET_MAILBOX,
    licenceChange: false,
    coverage: 'hygiene',
    values: LIST_VALUES,
    why:
      'The other audit actions are the rest of the timeline an investigation rebuilds: inbox rules that forward ' +
      'or hide mail (UpdateInboxRules), folder permission changes (UpdateFolderPermissions), mail sent (Send, ' +
      'SendAs, SendOnBehalf), deletions (SoftDelete, HardDelete, MoveToDeletedItems) and searches ' +
      '(SearchQueryInitiated). A logon type without them leaves gaps exactly where an intruder covers tracks.',
    fix:
      "Set-Mailbox -Identity <mailbox> -AuditOwner @{Add='<action>','<action>'}\n" +
      'Add the actions listed as expected, with -AuditDelegate or -AuditAdmin for those logon types. ' +
      'Adding actions customises the logon type (it leaves DefaultAuditSet). ' +
      'Check: Get-Mailbox -Identity <mailbox> | Format-List AuditOwner,AuditDelegate,AuditAdmin',
  },
  'audit-retention-too-short': {
    id: 'audit-retention-too-short',
    title: 'The unified audit log keeps this mailbox\'s records too briefly',
    severity: 'medium',
    defaultMode: 'report',
    licenceDependent: true,
    changeKinds: [],
    licenceChange: false,
    coverage: 'hygiene',
    values: { expected: '>= N days (policy.minimumUnifiedAuditRetentionDays)', actual: 'N days (what decides it)' },
    why:
      'Audit search keeps a user\'s records for as long as the licence or an audit retention policy says: 180 days ' +
      'with Audit (Standard), one year with Audit (Premium)\'s default policy, up to 10 years with custom policies. ' +
      'AuditLogAgeLimit does not change it. Intrusions are often found months after they begin, and the records ' +
      'of how the intruder got in and what was read first are the ones that age out.',
    fix:
      'Create an audit retention policy in Microsoft Purview (Audit > Audit retention policies; needs Audit (Premium) ' +
      'for the users it covers), or license the users with Audit (Premium) (Office/Microsoft 365 E5, E5 Compliance, ' +
      'E5 eDiscovery and Audit). Declare the tenant\'s policies in policy.auditRetentionPolicies, since Exchange ' +
      'REST cannot read them.',
  },
  'advanced-auditing-plan-missing': {
    id: 'advanced-auditing-plan-missing',
    title: 'The Audit (Premium) plan is switched off in the user\'s licence',
    severity: 'medium',
    defaultMode: 'report',
    licenceDependent: true,
    changeKinds: [],
    licenceChange: true,
    coverage: 'hygiene',
    values: { expected: 'Enabled', actual: "why not: disabled in a SKU's assignment, absent, or its capabilityStatus" },
    why:
      'The user holds a licence that includes Microsoft 365 Advanced Auditing (Audit (Premium)), but the plan is ' +
      'disabled or not Enabled. Since 2024 MailItemsAccessed is recorded without it, but the records are kept ' +
      '180 days instead of a year, and Premium-only properties and retention policies do not apply: the ' +
      'evidence is paid for and ages out early.',
    fix:
      'Re-enable "Microsoft 365 Advanced Auditing" in the user\'s licence (Microsoft 365 admin center > user > ' +
      'Licenses and apps), or with Microsoft Graph PowerShell:\n' +
      `$disabled = ((Get-MgUser -UserId <upn> -Property AssignedLicenses).AssignedLicenses | Where-Object SkuId -eq '<skuId>').DisabledPlans | Where-Object { $_ -ne '${ADVANCED_AUDITING_PLAN_ID}' }\n` +
      "Set-MgUserLicense -UserId <upn> -AddLicenses @(@{SkuId='<skuId>'; DisabledPlans=@($disabled)}) -RemoveLicenses @()\n" +
      'When the licence comes from a group, change the group\'s assignment instead (Set-MgGroupLicense). ' +
      'A capabilityStatus of Suspended or Warning means the subscription itself lapsed.',
  },
  'mailbox-audit-disabled': {
    id: 'mailbox-audit-disabled',
    title: 'AuditEnabled is False on the mailbox',
    severity: 'low',
    defaultMode: 'auto',
    licenceDependent: false,
    changeKinds: FIXED_BY_SET_MAILBOX,
    licenceChange: false,
    // Hygiene on user and shared mailboxes; on rooms and equipment (high) nothing is recorded, which
    // the coverage module reads from the finding's severity.
    coverage: 'hygiene',
    values: { expected: 'true', actual: 'false (with a note where Exchange ignores it)' },
    why:
      'On user and shared mailboxes Exchange ignores AuditEnabled while org auditing is on (auditing on by default), ' +
      'so no record is lost today; it is still worth setting, because the mailbox would go silent if org auditing ' +
      'were ever turned off, and an explicit False is what someone leaves behind after switching auditing off on ' +
      'purpose. Room and equipment mailboxes are outside on-by-default: there AuditEnabled = False means nothing is ' +
      'recorded at all (high).',
    fix:
      'Set-Mailbox -Identity <mailbox> -AuditEnabled $true\n' +
      'Check: Get-Mailbox -Identity <mailbox> | Format-List AuditEnabled',
  },
  'mailbox-audit-log-age-short': {
    id: 'mailbox-audit-log-age-short',
    title: 'The mailbox audit log is kept for less time than the policy asks',
    severity: 'low',
    defaultMode: 'auto',
    licenceDependent: false,
    changeKinds: FIXED_BY_SET_MAILBOX,
    licenceChange: false,
    coverage: 'hygiene',
    values: { expected: '>= N days (policy.minimumAuditLogAgeDays)', actual: 'AuditLogAgeLimit in days' },
    why:
      'AuditLogAgeLimit (90 days unless changed) governs only the mailbox\'s own audit log in Recoverable Items, ' +
      'read by Search-MailboxAuditLog, which Microsoft is retiring. It does not set how long audit search keeps ' +
      'records (see audit-retention-too-short): hygiene, not evidence.',
    fix:
      'Set-Mailbox -Identity <mailbox> -AuditLogAgeLimit <days>.00:00:00 (e.g. 180.00:00:00, the policy minimum)\n' +
      'Never set 00:00:00: it purges all records at the next Managed Folder Assistant run. ' +
      'Check: Get-Mailbox -Identity <mailbox> | Format-List AuditLogAgeLimit',
  },
  'default-audit-set-customised': {
    id: 'default-audit-set-customised',
    title: 'A logon type\'s audit actions are no longer Microsoft-managed',
    severity: 'low',
    defaultMode: 'report',
    licenceDependent: true,
    changeKinds: FIXED_BY_SET_MAILBOX,
    licenceChange: false,
    coverage: 'hygiene',
    values: { expected: 'Microsoft-managed (in DefaultAuditSet)', actual: 'customised (not in DefaultAuditSet)' },
    why:
      'While a logon type is in DefaultAuditSet, Microsoft keeps its action list current and new audit actions ' +
      'start arriving without anyone acting. Any change to AuditOwner, AuditDelegate or AuditAdmin freezes that ' +
      'list; lists frozen before 2024 are how many E3 mailboxes ended up without MailItemsAccessed and Send.',
    fix:
      'Set-Mailbox -Identity <mailbox> -DefaultAuditSet Admin,Delegate,Owner\n' +
      'Name every logon type that should be Microsoft-managed, including those already managed; this replaces ' +
      'the custom list, so re-add any policy-required actions Microsoft does not include. ' +
      'Check: Get-Mailbox -Identity <mailbox> | Format-List DefaultAuditSet,AuditOwner,AuditDelegate,AuditAdmin',
  },
};

export function ruleMetadata(id: RuleId): RuleMetadata {
  return RULE_METADATA[id];
}

/** The mode a rule runs in under this policy, before the licence floor (remediation/modes.ts). */
export function modeFor(policy: AuditPolicy, ruleId: RuleId): RemediationMode {
  return policy.modes[ruleId] ?? RULE_METADATA[ruleId].defaultMode;
}
