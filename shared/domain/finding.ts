import type { LogonType } from './audit';

/** The 2026 rule pack (DESIGN.md), in the order findings come out in. */
export const RULE_IDS = [
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
export type RuleId = (typeof RULE_IDS)[number];

/**
 * Ids of earlier packs and the id that replaced each. Rows stored under an old id read as the new
 * one, so history keeps its thread across the rename.
 */
export const RENAMED_RULE_IDS: Readonly<Record<string, RuleId>> = {
  // AuditLogAgeLimit governs only the mailbox audit log, not the unified audit log (REFERENCE.md §0).
  'retention-too-short': 'mailbox-audit-log-age-short',
};

/** A stored or typed rule id as the current pack names it; undefined when no rule has that name. */
export function canonicalRuleId(id: string): RuleId | undefined {
  if ((RULE_IDS as readonly string[]).includes(id)) return id as RuleId;
  return RENAMED_RULE_IDS[id];
}

/** A rule's current id and every earlier one: stored rows carry whichever was current when written. */
export function ruleIdAliases(id: RuleId): string[] {
  return [id, ...Object.keys(RENAMED_RULE_IDS).filter((old) => RENAMED_RULE_IDS[old] === id)];
}

/**
 * What a remediation can do. Every kind only ever strengthens auditing; the pack says which kinds
 * may fix which rule, and a queued change of another kind is refused.
 */
export const CHANGE_KINDS = [
  'set-mailbox',
  'set-bypass-association',
  'set-organization-config',
  'set-admin-audit-log-config',
  'reprocess-licence',
  'assign-licence',
] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

export const SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const REMEDIATION_MODES = ['report', 'auto', 'approval'] as const;
export type RemediationMode = (typeof REMEDIATION_MODES)[number];

/** What a rule looks at. */
export type ObjectType = 'organization' | 'mailbox' | 'bypass-association';

/** A JSON value small enough to store and print: what a setting should be, or what it is. */
export type FindingValue = string | number | boolean | null | string[];

/** One drift: a rule, an object, and (for action rules) a logon type. */
export interface Finding {
  ruleId: RuleId;
  objectType: ObjectType;
  /** Entra object id for mailboxes, the association Guid for bypasses, the org identity for the org. */
  objectId: string;
  /** For mailboxes: the UPN; for bypasses and the org: their identity. */
  userPrincipalName: string;
  logonType?: LogonType;
  severity: Severity;
  expected: FindingValue;
  actual: FindingValue;
  /** Set when the rule itself failed on this object: the finding then reports the failure, not drift. */
  error?: string;
}

/** The key that identifies one finding across scans. */
export function findingKey(finding: Pick<Finding, 'ruleId' | 'objectId' | 'logonType'>): string {
  return finding.logonType
    ? `${finding.ruleId}|${finding.objectId}|${finding.logonType}`
    : `${finding.ruleId}|${finding.objectId}`;
}
