import type { LogonType } from './audit';

export const RULE_IDS = [
  'org-audit-disabled',
  'mailbox-audit-disabled',
  'mailitemsaccessed-missing',
  'audit-actions-missing',
  'retention-too-short',
  'audit-bypass-enabled',
  'default-audit-set-customised',
  'advanced-auditing-plan-missing',
  'licence-inherited-blocks-mia',
] as const;
export type RuleId = (typeof RULE_IDS)[number];

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
