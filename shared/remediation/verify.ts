import type { AuditPolicy } from '../config/policy';
import type { UserLicenceState } from '../domain/audit';
import { findingKey, type Finding, type RuleId } from '../domain/finding';
import { resolveAdvancedAuditing } from '../graph';
import {
  RULES_BY_ID,
  evaluateBypassAssociation,
  evaluateMailbox,
  evaluateOrganization,
  type BypassRule,
  type Evaluation,
  type MailboxRule,
  type OrganizationRule,
} from '../rules';
import type { RemediationPlan } from './plan';
import type { RemediationTenant } from './tenant';

/**
 * Re-reads the object a plan changes and runs the same rule on the fresh snapshot, through the same
 * evaluator the scan uses (policy exceptions included). The worker uses it twice: to verify a
 * change, and, on a redelivered message, to learn whether an earlier delivery already made it.
 */
export type TargetState =
  | { state: 'compliant' }
  /** The rule still reports the finding (or an exception now covers it: that is not a fix either). */
  | { state: 'drift'; finding: Finding }
  /** The object no longer exists; the next scan records it as gone. */
  | { state: 'gone'; reason: string };

export interface TargetContext {
  tenant: RemediationTenant;
  policy: AuditPolicy;
  now: Date;
  /** Whether remediation has recorded Exchange refusing MailItemsAccessed for this mailbox. */
  mailItemsAccessedRefused(objectId: string): Promise<boolean>;
}

/** Rules whose outcome depends on the user's licence (premium actions, the plan itself). */
const LICENCE_DEPENDENT: ReadonlySet<RuleId> = new Set<RuleId>([
  'mailitemsaccessed-missing',
  'audit-actions-missing',
  'default-audit-set-customised',
  'advanced-auditing-plan-missing',
  'licence-inherited-blocks-mia',
]);

export async function evaluateTarget(
  plan: Pick<RemediationPlan, 'ruleId' | 'objectType' | 'objectId' | 'findingKey'>,
  context: TargetContext,
): Promise<TargetState> {
  const rule = RULES_BY_ID[plan.ruleId];
  const { tenant, policy, now } = context;
  let evaluation: Evaluation;
  switch (rule.target) {
    case 'organization': {
      const organization = await tenant.getOrganization(true);
      evaluation = evaluateOrganization({ organization, policy }, now, [rule as OrganizationRule]);
      break;
    }
    case 'bypass-association': {
      const association = await tenant.getBypassAssociation(plan.objectId);
      if (!association) return { state: 'gone', reason: `the bypass association ${plan.objectId} no longer exists` };
      evaluation = evaluateBypassAssociation({ association, policy }, now, [rule as BypassRule]);
      break;
    }
    case 'mailbox': {
      const mailbox = await tenant.getMailbox(plan.objectId);
      if (!mailbox) return { state: 'gone', reason: `the mailbox ${plan.objectId} no longer exists` };
      const needsLicence = LICENCE_DEPENDENT.has(plan.ruleId);
      const [licence, organization, refused] = await Promise.all([
        needsLicence ? licenceOf(tenant, mailbox.objectId) : Promise.resolve(undefined),
        tenant.getOrganization(),
        plan.ruleId === 'licence-inherited-blocks-mia' ? context.mailItemsAccessedRefused(mailbox.objectId) : Promise.resolve(false),
      ]);
      evaluation = evaluateMailbox(
        { mailbox, licence, organization, policy, mailItemsAccessedRefused: refused },
        now,
        [rule as MailboxRule],
      );
      break;
    }
  }
  // Object ids are case-insensitive (the store keys them lower-cased); compare keys the same way.
  const wanted = plan.findingKey.toLowerCase();
  const found = [...evaluation.findings, ...evaluation.excepted.map((item) => item.finding)].find(
    (finding) => findingKey(finding).toLowerCase() === wanted,
  );
  return found ? { state: 'drift', finding: found } : { state: 'compliant' };
}

/**
 * The licence state as the scan would see it: only users holding some licence are in the scan's
 * licence index, so a user without any (shared mailboxes) has none here either.
 */
async function licenceOf(tenant: RemediationTenant, objectId: string): Promise<UserLicenceState | undefined> {
  const user = await tenant.getUser(objectId);
  if (!user || user.assignedLicenses.length === 0) return undefined;
  return resolveAdvancedAuditing(user, await tenant.skusWithAdvancedAuditing());
}
