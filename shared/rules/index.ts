/**
 * The drift rules: one pure rule per file, metadata in pack.ts, evaluator.ts to run them.
 *
 * What each finding's expected/actual hold (so reports, cards and the store read them one way):
 *   org-audit-disabled              false / true
 *   mailbox-audit-disabled          true / false
 *   audit-bypass-enabled            false / true
 *   mailitemsaccessed-missing       per logon type: ['MailItemsAccessed'] / that logon type's list, sorted
 *   audit-actions-missing           per logon type: the missing actions, sorted / that logon type's list, sorted
 *   audit-log-ingestion-disabled    true / false (UnifiedAuditLogIngestionEnabled)
 *   mailbox-audit-log-age-short     '>= 180 days' / 90 (AuditLogAgeLimit in days)
 *   audit-retention-too-short       '>= 365 days' / '180 days (Audit (Standard))'
 *   default-audit-set-customised    per logon type: 'Microsoft-managed (in DefaultAuditSet)' / 'customised (not in DefaultAuditSet)'
 *   advanced-auditing-plan-missing  'Enabled' / why not: 'disabled in the licence assignment of SKU …',
 *                                   'not in assignedPlans' or 'capabilityStatus Suspended'
 *   licence-inherited-blocks-mia    'MailItemsAccessed accepted by Exchange' / the evidence, then 'plan only via group …'
 *   any rule that threw             null / null, with `error` set
 *
 * The evaluator returns `{ findings, excepted }`: findings the policy exempts go to `excepted` with
 * the exception that covers them, never to `findings`.
 */
export type {
  BypassRule,
  BypassRuleInput,
  MailboxRule,
  MailboxRuleInput,
  OrganizationRule,
  OrganizationRuleInput,
  Rule,
  CoverageEffect,
  RuleMetadata,
  RuleOutcome,
  Violation,
} from './types';
export {
  EXTENDED_PRESET_ACTIONS,
  MICROSOFT_DEFAULT_ACTIONS,
  ADVANCED_AUDITING_SCOPED_ACTIONS,
  ACCEPTED_BUT_NOT_LOGGED,
  VALID_ACTIONS,
  compilePolicy,
  exceptionExpiresAt,
  requiredActionsFor,
  type CompiledException,
  type CompiledPolicy,
  type RequiredActions,
} from './compiled-policy';
export { mailboxInScope, premiumActionsRequired, premiumExemption } from './scope';
export { BYPASS_RULES, MAILBOX_RULES, ORGANIZATION_RULES, RULES, RULES_BY_ID, RULE_METADATA, modeFor, ruleMetadata } from './pack';
export {
  evaluateBypassAssociation,
  evaluateMailbox,
  evaluateOrganization,
  findException,
  type ExceptedFinding,
  type Evaluation,
} from './evaluator';
export { advancedAuditingPlanMissing } from './advanced-auditing-plan-missing';
export { auditActionsMissing } from './audit-actions-missing';
export { auditBypassEnabled } from './audit-bypass-enabled';
export { defaultAuditSetCustomised } from './default-audit-set-customised';
export { licenceInheritedBlocksMia } from './licence-inherited-blocks-mia';
export { mailboxAuditDisabled } from './mailbox-audit-disabled';
export { mailItemsAccessedMissing } from './mailitemsaccessed-missing';
export { orgAuditDisabled } from './org-audit-disabled';
export { auditLogIngestionDisabled } from './audit-log-ingestion-disabled';
export { auditRetentionTooShort, unifiedAuditRetention, type UnifiedAuditRetention } from './audit-retention-too-short';
export { mailboxAuditLogAgeShort } from './mailbox-audit-log-age-short';
