import { ADVANCED_AUDITING_PLAN_ID } from '../domain/audit';
import type { GraphLicensedUser, SubscribedSku } from '../graph';

/**
 * The direct licence assignment that works around the group-licensing failure
 * (licence-inherited-blocks-mia, REFERENCE.md §3.3–3.4). Pure: the planner uses it to propose the
 * change and the worker to re-check it at the moment of application, from the same inputs.
 *
 * The hazard it exists to avoid: a SKU assigned both directly and through a group consumes one
 * licence and switches on every plan enabled in *either* assignment. A direct assignment with
 * `disabledPlans: []` would therefore switch on every service the group left off (and it stays
 * when the user leaves the group). So the direct assignment disables exactly what the user's
 * group assignments of that SKU disable — the intersection of their disabledPlans, since the
 * groups' enabled plans union too — minus Advanced Auditing, the one plan the fix is about.
 */

/** What the planner and the worker need to know about the user. */
export type LicenceUser = Pick<GraphLicensedUser, 'id' | 'userPrincipalName' | 'usageLocation' | 'licenseAssignmentStates'>;

export interface DirectAssignment {
  skuId: string;
  /** The SKU's name, e.g. SPE_E5 (empty when the catalogue gives none). */
  skuPartNumber: string;
  /** What the user's group assignments of the SKU leave disabled (their intersection), sorted. */
  groupDisabledPlans: string[];
  /** The body's disabledPlans: groupDisabledPlans without Advanced Auditing, sorted. */
  disabledPlans: string[];
  /** servicePlanName of each disabled plan, where the tenant's catalogue names it. */
  planNames: Record<string, string>;
}

const AUDIT_PLAN = ADVANCED_AUDITING_PLAN_ID.toLowerCase();

function isActive(state: { state?: string | null }): boolean {
  return /^active/i.test(state.state ?? '');
}

/**
 * The assignment to propose, or why there is none (a sentence for the finding's advice or the
 * blocked record). Chooses, deterministically, a SKU carrying Advanced Auditing that reaches the
 * user only through active group assignments, at least one of which leaves the plan enabled.
 */
export function directAssignmentFor(user: LicenceUser, skus: readonly SubscribedSku[]): DirectAssignment | string {
  const who = user.userPrincipalName || user.id;
  if (!user.usageLocation) {
    return (
      `${who} has no usage location, and Microsoft Graph refuses to assign a licence without one. ` +
      'Set it (Update-MgUser -UserId <upn> -UsageLocation <country code>); the next run then proposes the assignment.'
    );
  }
  const catalogue = new Map(skus.map((sku) => [sku.skuId.toLowerCase(), sku]));
  const carriesPlan = (skuId: string) => catalogue.get(skuId.toLowerCase())?.servicePlans.some((plan) => plan.servicePlanId.toLowerCase() === AUDIT_PLAN) ?? false;
  const states = user.licenseAssignmentStates.filter((state) => carriesPlan(state.skuId) && isActive(state));

  const direct = states.find((state) => !state.assignedByGroup?.trim());
  if (direct) {
    return `${who} already holds ${nameOf(catalogue.get(direct.skuId.toLowerCase()), direct.skuId)} directly; a second direct assignment would change nothing.`;
  }
  const bySku = new Map<string, typeof states>();
  for (const state of states) {
    const skuId = state.skuId.toLowerCase();
    bySku.set(skuId, [...(bySku.get(skuId) ?? []), state]);
  }
  const candidates = [...bySku.entries()]
    .filter(([, groupStates]) => groupStates.some((state) => !state.disabledPlans.map((plan) => plan.toLowerCase()).includes(AUDIT_PLAN)))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const chosen = candidates[0];
  if (!chosen) {
    return `${who} has no active group assignment of a SKU that carries Advanced Auditing with the plan enabled, so there is no SKU to assign directly.`;
  }
  const [skuId, groupStates] = chosen;
  const sku = catalogue.get(skuId);
  const lists = groupStates.map((state) => new Set(state.disabledPlans.map((plan) => plan.toLowerCase())));
  const groupDisabledPlans = [...lists[0]!].filter((plan) => lists.every((list) => list.has(plan))).sort();
  const disabledPlans = groupDisabledPlans.filter((plan) => plan !== AUDIT_PLAN);
  const planNames: Record<string, string> = {};
  for (const plan of groupDisabledPlans) {
    const name = sku?.servicePlans.find((item) => item.servicePlanId.toLowerCase() === plan)?.servicePlanName;
    if (name) planNames[plan] = name;
  }
  return { skuId, skuPartNumber: sku?.skuPartNumber ?? '', groupDisabledPlans, disabledPlans, planNames };
}

/** True when two assignments would send the same body (same SKU, same disabled plans). */
export function sameAssignmentBody(a: Pick<DirectAssignment, 'skuId' | 'disabledPlans'>, b: Pick<DirectAssignment, 'skuId' | 'disabledPlans'>): boolean {
  const sorted = (plans: readonly string[]) => [...new Set(plans.map((plan) => plan.toLowerCase()))].sort().join(',');
  return a.skuId.toLowerCase() === b.skuId.toLowerCase() && sorted(a.disabledPlans) === sorted(b.disabledPlans);
}

function nameOf(sku: SubscribedSku | undefined, skuId: string): string {
  return sku?.skuPartNumber ? `${sku.skuPartNumber} (${skuId})` : skuId;
}
