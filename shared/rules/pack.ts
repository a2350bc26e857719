import { ADVANCED_AUDITING_PLAN_ID } from '../domain/audit';
import type { RuleId } from '../domain/finding';
import { advancedAuditingPlanMissing } from './advanced-auditing-plan-missing';
import { auditActionsMissing } from './audit-actions-missing';
import { auditBypassEnabled } from './audit-bypass-enabled';
import { defaultAuditSetCustomised } from './default-audit-set-customised';
import { licenceInheritedBlocksMia } from './licence-inherited-blocks-mia';
import { mailboxAuditDisabled } from './mailbox-audit-disabled';
import { mailItemsAccessedMissing } from './mailitemsaccessed-missing';
import { orgAuditDisabled } from './org-audit-disabled';
import { retentionTooShort } from './retention-too-short';
import type { BypassRule, MailboxRule, OrganizationRule, Rule, RuleMetadata } from './types';

/**
 * The first pack. Typed by id so that a rule id added to RULE_IDS without a rule (or metadata)
 * fails to compile. Order here is the order findings come out in.
 */
export const RULES_BY_ID: Readonly<Record<RuleId, Rule>> = {
  'org-audit-disabled': orgAuditDisabled,
  'mailbox-audit-disabled': mailboxAuditDisabled,
  'mailitemsaccessed-missing': mailItemsAccessedMissing,
  'audit-actions-missing': auditActionsMissing,
  'retention-too-short': retentionTooShort,
  'audit-bypass-enabled': auditBypassEnabled,
  'default-audit-set-customised': defaultAuditSetCustomised,
  'advanced-auditing-plan-missing': advancedAuditingPlanMissing,
  'licence-inherited-blocks-mia': licenceInheritedBlocksMia,
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

/** What reports, Teams cards and the dashboard say about each rule. `<mailbox>` etc. are placeholders. */
export const RULE_METADATA: Readonly<Record<RuleId, RuleMetadata>> = {
  'org-audit-disabled': {
    id: 'org-audit-disabled',
    title: 'Mailbox auditing is disabled for the whole organization',
    severity: 'critical',
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
  'mailbox-audit-disabled': {
    id: 'mailbox-audit-disabled',
    title: 'Auditing is turned off on the mailbox',
    severity: 'high',
    why:
      'A mailbox with AuditEnabled = False relies entirely on audit-on-by-default. Microsoft\'s guidance for ' +
      'mailboxes whose events are missing from audit search (notably users without Audit (Premium)) is to set ' +
      'AuditEnabled to True, and an explicit False is also what someone leaves behind after turning auditing off ' +
      'on purpose. Without the mailbox\'s events nobody can tell what was read, sent or deleted.',
    fix:
      'Set-Mailbox -Identity <mailbox> -AuditEnabled $true\n' +
      'If events still do not appear, set it to $false and back to $true. ' +
      'Check: Get-Mailbox -Identity <mailbox> | Format-List AuditEnabled',
  },
  'mailitemsaccessed-missing': {
    id: 'mailitemsaccessed-missing',
    title: 'MailItemsAccessed is not audited for a logon type',
    severity: 'high',
    why:
      'MailItemsAccessed is the only record of which messages were read: per message for bind access (aggregated ' +
      'every 2 minutes), per folder for sync. Without it for a logon type, reads by that kind of access — the ' +
      'owner\'s own sign-in (how a stolen password or token shows up), a delegate, or an admin or application — ' +
      'leave no trace, and breach-notification law (GDPR, US state laws) then requires assuming all mail was read.',
    fix:
      `${MIA_ADD}\n` +
      'Use -AuditDelegate or -AuditAdmin for those logon types. Alternatively restore Microsoft\'s managed set ' +
      '(Set-Mailbox -Identity <mailbox> -DefaultAuditSet Admin,Delegate,Owner, naming every logon type that ' +
      'should be Microsoft-managed) and re-read: a reset has been seen without MailItemsAccessed. ' +
      'Check: Get-Mailbox -Identity <mailbox> | Format-List AuditOwner,AuditDelegate,AuditAdmin,DefaultAuditSet. ' +
      'If Exchange answers "Auditing of MailItemsAccessed event is only available for users with appropriate ' +
      'license", see advanced-auditing-plan-missing and licence-inherited-blocks-mia.',
  },
  'audit-actions-missing': {
    id: 'audit-actions-missing',
    title: 'Audit actions required by the policy are missing',
    severity: 'medium',
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
  'retention-too-short': {
    id: 'retention-too-short',
    title: 'Mailbox audit records are kept for less time than the policy requires',
    severity: 'medium',
    why:
      'Exchange purges mailbox audit records older than AuditLogAgeLimit (90 days unless changed). Intrusions ' +
      'are often found months after they begin, and the oldest records — how the intruder got in and what was ' +
      'read first — are the ones that age out.',
    fix:
      'Set-Mailbox -Identity <mailbox> -AuditLogAgeLimit <days>.00:00:00 (e.g. 180.00:00:00, the policy minimum)\n' +
      'Never set 00:00:00: it purges all records at the next Managed Folder Assistant run. ' +
      'Check: Get-Mailbox -Identity <mailbox> | Format-List AuditLogAgeLimit',
  },
  'audit-bypass-enabled': {
    id: 'audit-bypass-enabled',
    title: 'An account bypasses mailbox auditing',
    severity: 'critical',
    why:
      'A bypass association stops Exchange from logging anything the account does, in every mailbox. ' +
      'Legitimate uses are rare (noisy service accounts); an intruder with admin rights sets it on the account ' +
      'they use to hide their tracks, and everything that account reads or sends becomes invisible.',
    fix:
      'Set-MailboxAuditBypassAssociation -Identity <account> -AuditBypassEnabled $false\n' +
      'List all bypasses: Get-MailboxAuditBypassAssociation -ResultSize Unlimited | ' +
      'Where-Object AuditBypassEnabled | Format-Table Identity,AuditBypassEnabled. ' +
      'Find who set it in the admin audit log (Set-MailboxAuditBypassAssociation) and treat an unknown change as an incident.',
  },
  'default-audit-set-customised': {
    id: 'default-audit-set-customised',
    title: 'A logon type\'s audit actions are no longer Microsoft-managed',
    severity: 'low',
    why:
      'While a logon type is in DefaultAuditSet, Microsoft keeps its action list current and new audit actions ' +
      'start arriving without anyone acting. Any change to AuditOwner, AuditDelegate or AuditAdmin freezes that ' +
      'list; lists frozen before audit-on-by-default are how many mailboxes ended up without MailItemsAccessed.',
    fix:
      'Set-Mailbox -Identity <mailbox> -DefaultAuditSet Admin,Delegate,Owner\n' +
      'Name every logon type that should be Microsoft-managed, including those already managed; this replaces ' +
      'the custom list, so re-add any policy-required actions Microsoft does not include. ' +
      'Check: Get-Mailbox -Identity <mailbox> | Format-List DefaultAuditSet,AuditOwner,AuditDelegate,AuditAdmin',
  },
  'advanced-auditing-plan-missing': {
    id: 'advanced-auditing-plan-missing',
    title: 'The Advanced Auditing plan is switched off in the user\'s licence',
    severity: 'high',
    why:
      'MailItemsAccessed, Send and SearchQueryInitiated are recorded only for users with the Advanced Auditing ' +
      'service plan (M365_ADVANCED_AUDITING). The user holds a licence that includes it, but the plan is ' +
      'disabled or not Enabled, so Exchange does not log those events: the evidence is paid for and not collected.',
    fix:
      'Re-enable "Microsoft 365 Advanced Auditing" in the user\'s licence (Microsoft 365 admin center > user > ' +
      'Licenses and apps), or with Microsoft Graph PowerShell:\n' +
      `$disabled = ((Get-MgUser -UserId <upn> -Property AssignedLicenses).AssignedLicenses | Where-Object SkuId -eq '<skuId>').DisabledPlans | Where-Object { $_ -ne '${ADVANCED_AUDITING_PLAN_ID}' }\n` +
      "Set-MgUserLicense -UserId <upn> -AddLicenses @(@{SkuId='<skuId>'; DisabledPlans=@($disabled)}) -RemoveLicenses @()\n" +
      'When the licence comes from a group, change the group\'s assignment instead (Set-MgGroupLicense). ' +
      'A capabilityStatus of Suspended or Warning means the subscription itself lapsed. ' +
      'MailItemsAccessed logging starts within 24 hours.',
  },
  'licence-inherited-blocks-mia': {
    id: 'licence-inherited-blocks-mia',
    title: 'A group-inherited licence leaves Exchange without Advanced Auditing',
    severity: 'high',
    why:
      'Entra shows the Advanced Auditing plan enabled, but it reaches the user only through group-based licensing ' +
      'and Exchange does not act on it (a known failure): MailItemsAccessed is refused ("only available for users ' +
      'with appropriate license") or the mailbox lacks the M365Auditing capability. The mailbox then silently ' +
      'records no evidence of which mail was read.',
    fix:
      'Microsoft\'s documented fix: in the group\'s licence assignment turn "Microsoft 365 Advanced Auditing" off, ' +
      'save, check it is off, then turn it back on. With Microsoft Graph PowerShell (keep any other plans the ' +
      'group disables in DisabledPlans):\n' +
      `Set-MgGroupLicense -GroupId <groupId> -AddLicenses @(@{SkuId='<skuId>'; DisabledPlans=@('${ADVANCED_AUDITING_PLAN_ID}')}) -RemoveLicenses @()\n` +
      "Set-MgGroupLicense -GroupId <groupId> -AddLicenses @(@{SkuId='<skuId>'; DisabledPlans=@()}) -RemoveLicenses @()\n" +
      "Or assign the SKU directly (check whether it takes another seat): Set-MgUserLicense -UserId <upn> -AddLicenses @(@{SkuId='<skuId>'}) -RemoveLicenses @()\n" +
      `Then retry ${MIA_ADD}; logging starts within 24 hours.`,
  },
};

export function ruleMetadata(id: RuleId): RuleMetadata {
  return RULE_METADATA[id];
}
