import type { AuditPolicy } from '../config/policy';
import type {
  BypassAssociation,
  LogonType,
  MailboxAuditSnapshot,
  OrganizationAuditSnapshot,
  UserLicenceState,
} from '../domain/audit';
import type { FindingValue, ObjectType, RuleId, Severity } from '../domain/finding';

/** One way an object breaks a rule. Action rules report one violation per logon type. */
export interface Violation {
  logonType?: LogonType;
  expected: FindingValue;
  actual: FindingValue;
}

export type RuleOutcome =
  | { status: 'compliant' }
  | { status: 'not-applicable'; reason: string }
  | { status: 'non-compliant'; violations: Violation[] };

/** Everything a mailbox rule may look at. All of it was read before any rule runs. */
export interface MailboxRuleInput {
  mailbox: MailboxAuditSnapshot;
  /** Graph's view of the user's licences; undefined for unlicensed mailboxes (shared, resource). */
  licence: UserLicenceState | undefined;
  organization: OrganizationAuditSnapshot;
  policy: AuditPolicy;
  /** Exchange refused MailItemsAccessed for this mailbox when we last tried (learned by remediation). */
  mailItemsAccessedRefused: boolean;
}

export interface OrganizationRuleInput {
  organization: OrganizationAuditSnapshot;
  policy: AuditPolicy;
}

export interface BypassRuleInput {
  association: BypassAssociation;
  policy: AuditPolicy;
}

interface RuleBase<T extends ObjectType, I> {
  id: RuleId;
  target: T;
  /** Pure: same input, same outcome; no I/O, no clock. */
  evaluate(input: I): RuleOutcome;
}

export type MailboxRule = RuleBase<'mailbox', MailboxRuleInput>;
export type OrganizationRule = RuleBase<'organization', OrganizationRuleInput>;
export type BypassRule = RuleBase<'bypass-association', BypassRuleInput>;
export type Rule = MailboxRule | OrganizationRule | BypassRule;

/** What people read about a rule: reports, cards and the dashboard all take it from the pack. */
export interface RuleMetadata {
  id: RuleId;
  title: string;
  severity: Severity;
  /** Why an investigator needs this setting. */
  why: string;
  /** How to fix it by hand (the remediation plan does it for auto/approval modes). */
  fix: string;
}
