import { z } from 'zod';
import { formatZodIssues } from '../config/zod-format';
import { ADVANCED_AUDITING_PLAN_ID, type AdvancedAuditingLicence, type UserLicenceState } from '../domain/audit';
import { ValidationError } from '../errors';
import type { GraphClient } from './client';
import { GraphRequestError } from './errors';

/**
 * Licences from Microsoft Graph, and how the Advanced Auditing plan (which MailItemsAccessed
 * depends on) reaches each user (REFERENCE.md §3).
 */

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const LICENSED_USER_PROPERTIES = [
  'id',
  'userPrincipalName',
  'usageLocation',
  'assignedLicenses',
  'assignedPlans',
  'licenseAssignmentStates',
] as const;

const guidList = z
  .array(z.string())
  .nullish()
  .transform((values) => (values ?? []).map((value) => value.toLowerCase()));

const assignedLicenseSchema = z.object({ skuId: z.string().min(1), disabledPlans: guidList });

const assignedPlanSchema = z.object({
  servicePlanId: z.string().min(1),
  capabilityStatus: z.string().min(1),
  service: z.string().nullish(),
  assignedDateTime: z.string().nullish(),
});

const licenseAssignmentStateSchema = z.object({
  skuId: z.string().min(1),
  disabledPlans: guidList,
  /** Null for a direct assignment; the group's id when inherited. */
  assignedByGroup: z.string().nullish(),
  /** Active, ActiveWithError, Disabled or Error. */
  state: z.string().nullish(),
  error: z.string().nullish(),
});

export const graphUserSchema = z.object({
  id: z.string().min(1),
  userPrincipalName: z
    .string()
    .nullish()
    .transform((value) => value ?? ''),
  usageLocation: z
    .string()
    .nullish()
    .transform((value) => value ?? null),
  assignedLicenses: z
    .array(assignedLicenseSchema)
    .nullish()
    .transform((value) => value ?? []),
  assignedPlans: z
    .array(assignedPlanSchema)
    .nullish()
    .transform((value) => value ?? []),
  licenseAssignmentStates: z
    .array(licenseAssignmentStateSchema)
    .nullish()
    .transform((value) => value ?? []),
});

/** A user as read from Graph, validated; GUIDs in disabledPlans are lower-cased. */
export type GraphLicensedUser = z.infer<typeof graphUserSchema>;

const subscribedSkuSchema = z.object({
  skuId: z.string().min(1),
  skuPartNumber: z.string().nullish(),
  servicePlans: z
    .array(z.object({ servicePlanId: z.string().min(1), servicePlanName: z.string().nullish() }).loose())
    .nullish()
    .transform((value) => value ?? []),
});

/** One of the tenant's subscriptions, as GET /subscribedSkus lists it; GUIDs lower-cased. */
export interface SubscribedSku {
  skuId: string;
  /** The SKU's name, e.g. SPE_E5; empty when Graph gave none. */
  skuPartNumber: string;
  servicePlans: Array<{ servicePlanId: string; servicePlanName: string }>;
}

/** The tenant's subscriptions with their service plans (names included, for people reading a change). */
export async function getSubscribedSkus(client: GraphClient): Promise<SubscribedSku[]> {
  const skus: SubscribedSku[] = [];
  for await (const page of client.pages('/subscribedSkus')) {
    for (const item of page.value) {
      const sku = parseOrThrow(subscribedSkuSchema, item, 'GET /subscribedSkus', 'subscribed SKU');
      skus.push({
        skuId: sku.skuId.toLowerCase(),
        skuPartNumber: sku.skuPartNumber ?? '',
        servicePlans: sku.servicePlans.map((plan) => ({ servicePlanId: plan.servicePlanId.toLowerCase(), servicePlanName: plan.servicePlanName ?? '' })),
      });
    }
  }
  return skus;
}

/** skuIds (lower-case) of the tenant's subscriptions whose service plans include Advanced Auditing. */
export async function getSkusWithAdvancedAuditing(client: GraphClient): Promise<Set<string>> {
  return skusWithAdvancedAuditing(await getSubscribedSkus(client));
}

/** skuIds (lower-case) of these SKUs whose plans include Advanced Auditing. Pure. */
export function skusWithAdvancedAuditing(skus: readonly SubscribedSku[]): Set<string> {
  return new Set(skus.filter((sku) => sku.servicePlans.some((plan) => plan.servicePlanId === ADVANCED_AUDITING_PLAN_ID)).map((sku) => sku.skuId));
}

export interface StreamLicensedUsersOptions {
  /** $top; Graph allows up to 999 for users. */
  pageSize?: number;
  /**
   * Called once with Graph's @odata.count (the $count=true total) when the first page carries
   * it, for progress reporting. Eventually consistent, so an estimate, not a promise.
   */
  onCount?: (total: number) => void;
}

/**
 * Every user holding at least one licence. `assignedLicenses/$count ne 0` is an advanced query,
 * so it needs $count=true and ConsistencyLevel: eventual (sent on every page).
 */
export async function* streamLicensedUsers(
  client: GraphClient,
  options: StreamLicensedUsersOptions = {},
): AsyncGenerator<GraphLicensedUser> {
  const pageSize = options.pageSize ?? 999;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 999) {
    throw new ValidationError(`pageSize must be a whole number from 1 to 999; got ${pageSize}.`, 'streamLicensedUsers');
  }
  const query = [
    `$filter=${encodeURIComponent('assignedLicenses/$count ne 0')}`,
    '$count=true',
    `$top=${pageSize}`,
    `$select=${LICENSED_USER_PROPERTIES.join(',')}`,
  ].join('&');
  let first = true;
  for await (const page of client.pages(`/users?${query}`, { ConsistencyLevel: 'eventual' })) {
    if (first && page.count !== undefined) options.onCount?.(page.count);
    first = false;
    for (const item of page.value) yield parseOrThrow(graphUserSchema, item, 'GET /users', 'user');
  }
}

/** One user with the licence properties, or undefined when Graph has no such user. */
export async function getUser(client: GraphClient, id: string): Promise<GraphLicensedUser | undefined> {
  if (id.trim() === '') throw new ValidationError('getUser needs a user id or UPN.', 'getUser');
  const body = await client.request(`/users/${encodeURIComponent(id.trim())}?$select=${LICENSED_USER_PROPERTIES.join(',')}`, {
    notFoundAsUndefined: true,
  });
  return body === undefined ? undefined : parseOrThrow(graphUserSchema, body, 'GET /users/{id}', 'user');
}

/** One licence in an assignLicense body. */
export interface LicenceToAdd {
  skuId: string;
  /** Plans of the SKU this assignment leaves off. An empty list switches every plan on. */
  disabledPlans: readonly string[];
}

/**
 * POST /users/{id}/assignLicense with one licence to add and none to remove (REFERENCE.md §3.3).
 * Returns the exact body sent, for the record. The user needs a usage location. Beware: a direct
 * assignment of a SKU the user also gets from a group unions with it, so every plan this body does
 * not disable is switched on — the caller decides disabledPlans with that in mind.
 */
export async function assignLicense(client: GraphClient, userId: string, licence: LicenceToAdd): Promise<{ addLicenses: LicenceToAdd[]; removeLicenses: string[] }> {
  if (userId.trim() === '') throw new ValidationError('assignLicense needs a user id.', 'assignLicense');
  if (!GUID.test(licence.skuId)) throw new ValidationError(`skuId must be a GUID; got "${licence.skuId}".`, 'assignLicense');
  const bad = licence.disabledPlans.find((plan) => !GUID.test(plan));
  if (bad !== undefined) throw new ValidationError(`disabledPlans must be service plan GUIDs; got "${bad}".`, 'assignLicense');
  const body = { addLicenses: [{ skuId: licence.skuId, disabledPlans: [...licence.disabledPlans] }], removeLicenses: [] as string[] };
  await client.request(`/users/${encodeURIComponent(userId.trim())}/assignLicense`, { method: 'POST', body });
  return body;
}

/**
 * POST /users/{id}/reprocessLicenseAssignment (no body): re-runs the user's group-based licence
 * assignments. Changes no plan and takes no seat (REFERENCE.md §3.3).
 */
export async function reprocessLicenseAssignment(client: GraphClient, userId: string): Promise<void> {
  if (userId.trim() === '') throw new ValidationError('reprocessLicenseAssignment needs a user id.', 'reprocessLicenseAssignment');
  await client.request(`/users/${encodeURIComponent(userId.trim())}/reprocessLicenseAssignment`, { method: 'POST' });
}

type AssignmentState = GraphLicensedUser['licenseAssignmentStates'][number];

/**
 * How Advanced Auditing reaches the user. Pure.
 *
 * - skuIncludesPlan: some assignment (in any state, so a failed group assignment still counts)
 *   is of a SKU that includes the plan.
 * - enabled: the plan is not disabled in at least one active assignment of such a SKU, and
 *   assignedPlans lists it as Enabled. Both are needed: the first is what an admin configured,
 *   the second is what the service actually provisioned.
 * - source / viaGroups: where the plan comes from among the active assignments that leave it
 *   enabled, whether or not provisioning has caught up (so a Suspended plan still shows its route).
 *
 * "Active" is read as any state that starts with "Active" (Active, ActiveWithError), since the
 * licence is in force in both; Disabled and Error assignments grant nothing.
 *
 * @param skusWithPlan from getSkusWithAdvancedAuditing (lower-case skuIds).
 */
export function resolveAdvancedAuditing(user: GraphLicensedUser, skusWithPlan: ReadonlySet<string>): UserLicenceState {
  const planId = ADVANCED_AUDITING_PLAN_ID.toLowerCase();
  const skus = new Set([...skusWithPlan].map((sku) => sku.toLowerCase()));
  const includesPlan = (state: { skuId: string }) => skus.has(state.skuId.toLowerCase());

  const states = assignmentStates(user).filter(includesPlan);
  const activeEnabling = states.filter((state) => isActive(state) && !state.disabledPlans.includes(planId));
  const capabilityStatus = planCapabilityStatus(user, planId);
  const viaGroups = unique(
    activeEnabling.map((state) => state.assignedByGroup?.trim()).filter((group): group is string => Boolean(group)),
  );
  const direct = activeEnabling.some((state) => !state.assignedByGroup?.trim());

  const advancedAuditing: AdvancedAuditingLicence = {
    skuIncludesPlan: states.length > 0 || user.assignedLicenses.some(includesPlan),
    enabled: activeEnabling.length > 0 && capabilityStatus === 'Enabled',
    disabledInSkus: unique(states.filter((state) => state.disabledPlans.includes(planId)).map((state) => state.skuId.toLowerCase())),
    capabilityStatus,
    source: direct && viaGroups.length > 0 ? 'direct-and-group' : direct ? 'direct' : viaGroups.length > 0 ? 'group' : 'none',
    viaGroups,
  };
  return {
    objectId: user.id,
    userPrincipalName: user.userPrincipalName,
    usageLocation: user.usageLocation,
    advancedAuditing,
  };
}

/**
 * licenseAssignmentStates says how each licence arrived. Without it (not selected, or an older
 * API answer) assignedLicenses is the only record, and is read as direct and active: that is
 * the most that can be said, and it cannot claim a group the data does not show.
 */
function assignmentStates(user: GraphLicensedUser): AssignmentState[] {
  if (user.licenseAssignmentStates.length > 0 || user.assignedLicenses.length === 0) return user.licenseAssignmentStates;
  return user.assignedLicenses.map((licence) => ({
    skuId: licence.skuId,
    disabledPlans: licence.disabledPlans,
    assignedByGroup: null,
    state: 'Active',
    error: null,
  }));
}

function isActive(state: AssignmentState): boolean {
  return /^active/i.test(state.state ?? '');
}

/**
 * The plan's capabilityStatus in assignedPlans. The plan can appear more than once (a licence
 * removed and assigned again leaves a Deleted entry next to the new one); Enabled wins, then the
 * most recently assigned.
 */
function planCapabilityStatus(user: GraphLicensedUser, planId: string): string | null {
  const entries = user.assignedPlans.filter((plan) => plan.servicePlanId.toLowerCase() === planId);
  if (entries.length === 0) return null;
  if (entries.some((plan) => plan.capabilityStatus === 'Enabled')) return 'Enabled';
  const latest = [...entries].sort((a, b) => Date.parse(b.assignedDateTime ?? '') - Date.parse(a.assignedDateTime ?? ''))[0];
  return (latest ?? entries[0])?.capabilityStatus ?? null;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown, operation: string, kind: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const record = value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {};
  const name = [record.userPrincipalName, record.id, record.skuPartNumber, record.skuId].find(
    (candidate): candidate is string => typeof candidate === 'string' && candidate !== '',
  );
  const issues = formatZodIssues(result.error);
  throw new GraphRequestError(
    `Microsoft Graph ${operation} returned a ${kind}${name ? ` (${name})` : ''} we cannot read: ${issues.join('; ')}.`,
    operation,
  );
}
