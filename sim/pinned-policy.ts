/**
 * The policy the simulator's oracle (groundTruth, groundTruthCoverage) assumes, pinned here on
 * purpose. It mirrors the product's DEFAULT policy (shared/config/policy.ts) as of the 2026 rule
 * pack (DESIGN.md "Rules (the 2026 pack)"), but is a hand-written copy, not an import: the oracle
 * must not share code with the scanner it checks. If the product's default policy changes, update
 * this file BY HAND (and the rule ids below if the pack renames one), then re-run test/unit/sim, test/integration/sim and the
 * product's ground-truth tests.
 */
import { MANAGED_DEFAULTS, UAL_RETENTION_DAYS, type LogonType } from './microsoft-facts';

export const PINNED_POLICY = Object.freeze({
  /** Mailbox types checked. Rooms and equipment are outside audit-on-by-default and out of scope. */
  mailboxTypes: Object.freeze(['UserMailbox', 'SharedMailbox'] as const),
  /** MailItemsAccessed is required on every in-scope mailbox, whatever its licence. */
  mailItemsAccessedScope: 'all' as const,
  /**
   * Required actions per logon type: Microsoft's managed default list (the 2026 list, which
   * includes MailItemsAccessed and Send), for every in-scope mailbox.
   */
  requiredActions: MANAGED_DEFAULTS,
  /** AuditLogAgeLimit minimum (mailbox audit log only). */
  minimumAuditLogAgeDays: 180,
  /** Unified audit log retention minimum: the Audit (Premium) default policy's year. */
  minimumUnifiedAuditLogRetentionDays: UAL_RETENTION_DAYS.premium,
});

/** The rule ids the oracle emits (the 2026 pack), as the simulator's own union. */
export const ORACLE_RULE_IDS = [
  'org-audit-disabled',
  'audit-log-ingestion-disabled',
  'audit-bypass-enabled',
  'mailitemsaccessed-missing',
  'licence-inherited-blocks-mia',
  'audit-actions-missing',
  'audit-retention-too-short',
  'advanced-auditing-plan-missing',
  'mailbox-audit-disabled',
  'mailbox-audit-log-age-short',
  'default-audit-set-customised',
] as const;
export type OracleRuleId = (typeof ORACLE_RULE_IDS)[number];

/** Mailbox types the pinned policy checks; others (rooms, equipment) must not be reported. */
export const PINNED_MAILBOX_TYPES: ReadonlySet<string> = new Set(PINNED_POLICY.mailboxTypes);

/** The actions the pinned policy requires for a logon type (the same for every in-scope mailbox). */
export function requiredActions(logonType: LogonType): readonly string[] {
  return PINNED_POLICY.requiredActions[logonType];
}
