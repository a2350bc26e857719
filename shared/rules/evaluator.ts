import type { AuditPolicy, PolicyException } from '../config/policy';
import type { Finding, ObjectType, RuleId } from '../domain/finding';
import { compilePolicy, type CompiledException } from './compiled-policy';
import { BYPASS_RULES, MAILBOX_RULES, ORGANIZATION_RULES, RULE_METADATA } from './pack';
import type {
  BypassRule,
  BypassRuleInput,
  MailboxRule,
  MailboxRuleInput,
  OrganizationRule,
  OrganizationRuleInput,
  RuleOutcome,
} from './types';

/** A finding the policy exempts; the store records it as excepted with the exception's reason and expiry. */
export interface ExceptedFinding {
  finding: Finding;
  exception: PolicyException;
}

/**
 * What the rules found on one object. `findings` never contains an excepted finding, so a caller that
 * ignores `excepted` still reports nothing the policy exempts. Both arrays are fresh and the caller's.
 */
export interface Evaluation {
  findings: Finding[];
  excepted: ExceptedFinding[];
}

interface Subject {
  objectType: ObjectType;
  objectId: string;
  userPrincipalName: string;
}

interface AnyRule<I> {
  id: RuleId;
  evaluate(input: I): RuleOutcome;
}

/** Runs the mailbox rules. `now` decides which exceptions have expired; `rules` is for tests. */
export function evaluateMailbox(
  input: MailboxRuleInput,
  now: Date,
  rules: readonly MailboxRule[] = MAILBOX_RULES,
): Evaluation {
  const { mailbox } = input;
  return run(rules, input, input.policy, now, {
    objectType: 'mailbox',
    objectId: mailbox.objectId,
    userPrincipalName: mailbox.userPrincipalName,
  });
}

export function evaluateOrganization(
  input: OrganizationRuleInput,
  now: Date,
  rules: readonly OrganizationRule[] = ORGANIZATION_RULES,
): Evaluation {
  const { identity } = input.organization;
  return run(rules, input, input.policy, now, { objectType: 'organization', objectId: identity, userPrincipalName: identity });
}

export function evaluateBypassAssociation(
  input: BypassRuleInput,
  now: Date,
  rules: readonly BypassRule[] = BYPASS_RULES,
): Evaluation {
  const { association } = input;
  return run(rules, input, input.policy, now, {
    objectType: 'bypass-association',
    objectId: association.objectId,
    userPrincipalName: association.identity,
  });
}

/**
 * The active exception that exempts `subject` from `ruleId`, if any: its object is '*', the object id
 * or the UPN/identity (case-insensitive), and `now` is before its expiry. The first match in policy
 * order wins.
 */
export function findException(
  policy: AuditPolicy,
  ruleId: RuleId,
  subject: Pick<Subject, 'objectId' | 'userPrincipalName'>,
  now: Date,
): PolicyException | undefined {
  const candidates = compilePolicy(policy).exceptions.get(ruleId);
  if (!candidates) return undefined;
  const time = now.getTime();
  for (const candidate of candidates) {
    if (time < candidate.expiresAt && matches(candidate, subject)) return candidate.exception;
  }
  return undefined;
}

function matches(candidate: CompiledException, subject: Pick<Subject, 'objectId' | 'userPrincipalName'>): boolean {
  return (
    candidate.object === '*' ||
    equalsLowered(subject.objectId, candidate.object) ||
    equalsLowered(subject.userPrincipalName, candidate.object)
  );
}

// Lower-cases only when the lengths agree, which spares most comparisons an allocation.
function equalsLowered(value: string, lowered: string): boolean {
  return value.length === lowered.length && value.toLowerCase() === lowered;
}

function run<I>(
  rules: readonly AnyRule<I>[],
  input: I,
  policy: AuditPolicy,
  now: Date,
  subject: Subject,
): Evaluation {
  const result: Evaluation = { findings: [], excepted: [] };
  for (const rule of rules) {
    let outcome: RuleOutcome;
    try {
      outcome = rule.evaluate(input);
    } catch (error) {
      // One broken rule (or one malformed snapshot) must not hide what the other rules found.
      record(result, policy, now, errorFinding(rule.id, subject, describe(error)));
      continue;
    }
    if (outcome.status !== 'non-compliant') continue;
    if (outcome.violations.length === 0) {
      record(result, policy, now, errorFinding(rule.id, subject, 'the rule reported non-compliant without a violation'));
      continue;
    }
    const { severity } = RULE_METADATA[rule.id];
    for (const violation of outcome.violations) {
      const finding: Finding = {
        ruleId: rule.id,
        objectType: subject.objectType,
        objectId: subject.objectId,
        userPrincipalName: subject.userPrincipalName,
        severity: violation.severity ?? severity,
        expected: violation.expected,
        actual: violation.actual,
      };
      if (violation.logonType) finding.logonType = violation.logonType;
      record(result, policy, now, finding);
    }
  }
  return result;
}

function record(result: Evaluation, policy: AuditPolicy, now: Date, finding: Finding): void {
  const exception = findException(policy, finding.ruleId, finding, now);
  if (exception) result.excepted.push({ finding, exception });
  else result.findings.push(finding);
}

function errorFinding(ruleId: RuleId, subject: Subject, message: string): Finding {
  return {
    ruleId,
    objectType: subject.objectType,
    objectId: subject.objectId,
    userPrincipalName: subject.userPrincipalName,
    severity: RULE_METADATA[ruleId].severity,
    expected: null,
    actual: null,
    error: message,
  };
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return `rule threw ${String(error)}`;
}
