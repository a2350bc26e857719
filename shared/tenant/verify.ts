import type { AuditPolicy } from '../config/policy';
import { ADVANCED_AUDITING_PLAN_ID, type OrganizationAuditSnapshot, type UserLicenceState } from '../domain/audit';
import { findingKey, type Finding } from '../domain/finding';
import { resolveAdvancedAuditing } from '../graph';
import { RULE_METADATA } from '../rules/pack';
import {
  RULES_BY_ID,
  evaluateBypassAssociation,
  evaluateMailbox,
  evaluateOrganization,
  type Evaluation,
} from '../rules';
import type { RemediationPlan } from '../remediation/plan';
import type { RemediationTenant } from './gateway';

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

export async function evaluateTarget(
  plan: Pick<RemediationPlan, 'ruleId' | 'objectType' | 'objectId' | 'findingKey' | 'userPrincipalName' | 'change'>,
  context: TargetContext,
): Promise<TargetState> {
  if (plan.change.kind === 'reprocess-licence') return evaluateReprocess(plan, context);
  const rule = RULES_BY_ID[plan.ruleId];
  const { tenant, policy, now } = context;
  let evaluation: Evaluation;
  switch (rule.target) {
    case 'organization': {
      let organization: OrganizationAuditSnapshot;
      if (plan.ruleId === 'audit-log-ingestion-disabled') {
        // Read the switch itself: getOrganization folds a failed read into "unknown" (what the scan
        // needs), where verification wants the error, so a throttled read is retried, not failed.
        const [known, enabled] = await Promise.all([tenant.getOrganization(), tenant.getUnifiedAuditLogIngestion()]);
        organization = { identity: known.identity, auditDisabled: known.auditDisabled, unifiedAuditLogIngestionEnabled: enabled };
      } else {
        organization = await tenant.getOrganization(true);
      }
      evaluation = evaluateOrganization({ organization, policy }, now, [rule]);
      break;
    }
    case 'bypass-association': {
      const association = await tenant.getBypassAssociation(plan.objectId);
      if (!association) return { state: 'gone', reason: `the bypass association ${plan.objectId} no longer exists` };
      evaluation = evaluateBypassAssociation({ association, policy }, now, [rule]);
      break;
    }
    case 'mailbox': {
      const mailbox = await tenant.getMailbox(plan.objectId);
      if (!mailbox) return { state: 'gone', reason: `the mailbox ${plan.objectId} no longer exists` };
      const needsLicence = RULE_METADATA[plan.ruleId].licenceDependent;
      const [licence, organization, refused] = await Promise.all([
        needsLicence ? licenceOf(tenant, mailbox.objectId) : Promise.resolve(undefined),
        tenant.getOrganization(),
        plan.ruleId === 'licence-inherited-blocks-mia' ? context.mailItemsAccessedRefused(mailbox.objectId) : Promise.resolve(false),
      ]);
      evaluation = evaluateMailbox(
        { mailbox, licence, organization, policy, mailItemsAccessedRefused: refused },
        now,
        [rule],
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
 * A reprocess cannot be seen in Exchange at once (it acts when Exchange picks the licence up, if it
 * does at all), so what is verified is what it can change in Graph: the user's group assignments of
 * SKUs carrying Advanced Auditing are in force, none in an error state (CountViolation and the
 * like). Whether Exchange then applies the licence is for the next scan and the next
 * MailItemsAccessed attempt to show; the planner's step 2 waits for exactly that.
 */
async function evaluateReprocess(
  plan: Pick<RemediationPlan, 'ruleId' | 'objectType' | 'objectId' | 'userPrincipalName'>,
  context: TargetContext,
): Promise<TargetState> {
  const user = await context.tenant.getUser(plan.objectId);
  if (!user) return { state: 'gone', reason: `Microsoft Graph has no user ${plan.objectId}` };
  const skus = await context.tenant.subscribedSkus();
  const names = new Map(skus.map((sku) => [sku.skuId, sku.skuPartNumber || sku.skuId]));
  const carrying = new Set(skus.filter((sku) => sku.servicePlans.some((item) => item.servicePlanId === ADVANCED_AUDITING_PLAN_ID)).map((sku) => sku.skuId));
  const failing = user.licenseAssignmentStates.filter(
    (state) => carrying.has(state.skuId.toLowerCase()) && Boolean(state.assignedByGroup) && (/error|disabled/i.test(state.state ?? '') || (state.error ?? 'None') !== 'None'),
  );
  if (failing.length === 0) return { state: 'compliant' };
  return {
    state: 'drift',
    finding: {
      ruleId: plan.ruleId,
      objectType: plan.objectType,
      objectId: plan.objectId,
      userPrincipalName: plan.userPrincipalName,
      severity: RULE_METADATA[plan.ruleId].severity,
      expected: 'every group assignment of a SKU carrying Advanced Auditing Active, without error',
      actual: failing.map((state) => `${names.get(state.skuId.toLowerCase()) ?? state.skuId} via group ${state.assignedByGroup}: ${state.state ?? 'no state'}${state.error && state.error !== 'None' ? ` (${state.error})` : ''}`),
    },
  };
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
