import type { AuditPolicy } from '../config/policy';
import type {
  BypassAssociation,
  LogonType,
  MailboxAuditSnapshot,
  OrganizationAuditSnapshot,
  UserLicenceState,
} from '../domain/audit';
import type { ChangeKind, FindingValue, ObjectType, RemediationMode, RuleId, Severity } from '../domain/finding';

/** One way an object breaks a rule. Action rules report one violation per logon type. */
export interface Violation {
  logonType?: LogonType;
  expected: FindingValue;
  actual: FindingValue;
  /** Overrides the pack's severity where the same setting matters more on some objects. */
  severity?: Severity;
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
  /**
   * Exchange refused MailItemsAccessed for this mailbox with its licence error when we last tried
   * (learned by remediation, kept until the action is seen in the mailbox's list).
   */
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

/**
 * How a rule's findings bear on the coverage verdict: `reads` findings mean the mailbox's reads are
 * not recorded (for the finding's logon type, or all three); `hygiene` findings leave them recorded
 * but at risk; `none` do not bear on one mailbox (bypass associations are judged per account).
 */
export type CoverageEffect = 'reads' | 'hygiene' | 'none';

/**
 * Every fact about a rule besides its logic: reports, cards, the dashboard, the planner and the
 * queue schema all read it from the pack, so adding a rule touches the rule file, the pack and its test.
 */
export interface RuleMetadata {
  id: RuleId;
  title: string;
  /** The usual severity; a violation may override it (mailbox-audit-disabled on rooms is high). */
  severity: Severity;
  /** Why an investigator needs this setting. */
  why: string;
  /** How to fix it by hand (the remediation plan does it for auto/approval modes). */
  fix: string;
  /** The mode used when the policy names none. */
  defaultMode: RemediationMode;
  /** Whether the rule's outcome depends on the user's licences (read from Graph). */
  licenceDependent: boolean;
  /** The change kinds that may fix it; empty for advice only. A queued change of another kind is refused. */
  changeKinds: readonly ChangeKind[];
  /** A fix changes licences: the policy can never make it automatic (it may widen access or take a seat). */
  licenceChange: boolean;
  coverage: CoverageEffect;
  /** What the finding's `expected` and `actual` hold, for people reading exports. */
  values: { expected: string; actual: string };
}
