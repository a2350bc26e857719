/**
 * How Graph shows simulated users: the default property set, `$select`, and the licence
 * properties (assignedLicenses, assignedPlans, licenseAssignmentStates) derived from the user's
 * assignments. Derived arrays are memoised per licence array, which clean users share, so listing
 * 100,000 users builds only a handful of them.
 */
import { ADVANCED_AUDITING_PLAN_ID, skuById, SKUS } from './catalog';
import type { FilterUserView } from './odata-filter';
import type { LicenceAssignment, SimulatedTenant, SimUser } from './tenant';

/** What Graph returns for a user without $select. */
export const DEFAULT_USER_PROPERTIES = [
  'businessPhones',
  'displayName',
  'givenName',
  'jobTitle',
  'mail',
  'mobilePhone',
  'officeLocation',
  'preferredLanguage',
  'surname',
  'userPrincipalName',
  'id',
] as const;

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type UserProperty = (user: SimUser, tenant: SimulatedTenant) => Json;

interface AssignedPlan {
  assignedDateTime: string;
  capabilityStatus: string;
  service: string;
  servicePlanId: string;
}

const assignedLicensesMemo = new WeakMap<readonly LicenceAssignment[], Json[]>();
const assignedPlansMemo = new WeakMap<readonly LicenceAssignment[], Map<string, AssignedPlan[]>>();
const statesMemo = new WeakMap<readonly LicenceAssignment[], Map<string, Json[]>>();

/** One entry per SKU; a plan counts as disabled only if every assignment of the SKU disables it. */
export function assignedLicenses(user: SimUser): Json[] {
  let result = assignedLicensesMemo.get(user.licences);
  if (!result) {
    const bySku = new Map<string, string[]>();
    for (const licence of user.licences) {
      const seen = bySku.get(licence.skuId);
      bySku.set(licence.skuId, seen ? seen.filter((plan) => licence.disabledPlans.includes(plan)) : [...licence.disabledPlans]);
    }
    result = [...bySku].map(([skuId, disabledPlans]) => ({ disabledPlans, skuId }));
    assignedLicensesMemo.set(user.licences, result);
  }
  return result;
}

/**
 * Enabled plans of every assigned SKU. A plan disabled everywhere is absent, except that the audit
 * plan keeps a `Deleted` entry for users who once had it (Graph keeps history in assignedPlans).
 */
export function assignedPlans(user: SimUser, tenant: SimulatedTenant): AssignedPlan[] {
  let byVariant = assignedPlansMemo.get(user.licences);
  if (!byVariant) {
    byVariant = new Map();
    assignedPlansMemo.set(user.licences, byVariant);
  }
  const variant = `${user.auditPlanDeletedEntry}|${tenant.licensedSince}`;
  let plans = byVariant.get(variant);
  if (!plans) {
    plans = [];
    const seen = new Set<string>();
    const enabled = new Set<string>();
    for (const licence of user.licences) {
      for (const plan of skuById(licence.skuId)?.servicePlans ?? []) {
        if (!licence.disabledPlans.includes(plan.servicePlanId)) enabled.add(plan.servicePlanId);
      }
    }
    for (const licence of user.licences) {
      for (const plan of skuById(licence.skuId)?.servicePlans ?? []) {
        if (seen.has(plan.servicePlanId)) continue;
        const isEnabled = enabled.has(plan.servicePlanId);
        const keepDeleted = plan.servicePlanId === ADVANCED_AUDITING_PLAN_ID && user.auditPlanDeletedEntry;
        if (!isEnabled && !keepDeleted) continue;
        seen.add(plan.servicePlanId);
        plans.push({
          assignedDateTime: tenant.licensedSince,
          capabilityStatus: isEnabled ? 'Enabled' : 'Deleted',
          service: plan.service,
          servicePlanId: plan.servicePlanId,
        });
      }
    }
    byVariant.set(variant, plans);
  }
  return plans;
}

export function licenseAssignmentStates(user: SimUser, tenant: SimulatedTenant): Json[] {
  let byDate = statesMemo.get(user.licences);
  if (!byDate) {
    byDate = new Map();
    statesMemo.set(user.licences, byDate);
  }
  let states = byDate.get(tenant.licensedSince);
  if (!states) {
    states = user.licences.map((licence) => ({
      assignedByGroup: licence.assignedByGroup,
      disabledPlans: [...licence.disabledPlans],
      error: 'None',
      lastUpdatedDateTime: tenant.licensedSince,
      skuId: licence.skuId,
      state: 'Active',
    }));
    byDate.set(tenant.licensedSince, states);
  }
  return states;
}

const USER_PROPERTIES: Record<string, UserProperty> = {
  id: (u) => u.id,
  businessPhones: () => [],
  displayName: (u) => u.displayName,
  givenName: (u) => u.givenName,
  jobTitle: (u) => u.jobTitle,
  mail: (u) => u.mail,
  mobilePhone: () => null,
  officeLocation: () => null,
  preferredLanguage: () => null,
  surname: (u) => u.surname,
  userPrincipalName: (u) => u.userPrincipalName,
  accountEnabled: (u) => u.accountEnabled,
  usageLocation: (u) => u.usageLocation,
  userType: (u) => u.userType,
  department: (u) => u.department,
  mailNickname: (u) => u.mailNickname,
  companyName: () => null,
  city: () => null,
  country: () => null,
  employeeId: () => null,
  onPremisesSyncEnabled: () => null,
  createdDateTime: (_u, t) => t.licensedSince,
  proxyAddresses: (u) => [`SMTP:${u.mail}`],
  assignedLicenses: (u) => assignedLicenses(u),
  assignedPlans: (u, t) => assignedPlans(u, t) as unknown as Json[],
  licenseAssignmentStates: (u, t) => licenseAssignmentStates(u, t),
};

const USER_PROPERTY_BY_LOWER = new Map(Object.keys(USER_PROPERTIES).map((name) => [name.toLowerCase(), name]));

/** Canonical property names for a $select list, or the first unknown name. */
export function resolveUserSelect(select: string): { properties: string[] } | { unknown: string } {
  const properties: string[] = [];
  for (const raw of select.split(',')) {
    const name = raw.trim();
    if (name === '') continue;
    const canonical = USER_PROPERTY_BY_LOWER.get(name.toLowerCase());
    if (!canonical) return { unknown: name };
    if (!properties.includes(canonical)) properties.push(canonical);
  }
  return { properties };
}

export function userJson(user: SimUser, tenant: SimulatedTenant, properties: readonly string[]): Record<string, Json> {
  const json: Record<string, Json> = {};
  for (const name of properties) json[name] = USER_PROPERTIES[name]?.(user, tenant) ?? null;
  return json;
}


export function filterView(user: SimUser, tenant: SimulatedTenant): FilterUserView {
  return {
    scalar: (name) => {
      const value = USER_PROPERTIES[name]?.(user, tenant);
      return typeof value === 'string' || typeof value === 'boolean' ? value : null;
    },
    collection: (name) => {
      if (name === 'assignedLicenses') return assignedLicenses(user) as Record<string, string | null>[];
      if (name === 'assignedPlans') return assignedPlans(user, tenant) as unknown as Record<string, string | null>[];
      return [];
    },
  };
}

export function subscribedSkusJson(tenant: SimulatedTenant): Json[] {
  return SKUS.map((sku) => {
    const units = tenant.skuUnits.get(sku.skuId) ?? { enabled: 0, consumed: 0 };
    return {
      accountName: tenant.domain.split('.')[0] ?? tenant.domain,
      accountId: tenant.tenantId,
      appliesTo: 'User',
      capabilityStatus: 'Enabled',
      consumedUnits: units.consumed,
      id: `${tenant.tenantId}_${sku.skuId}`,
      skuId: sku.skuId,
      skuPartNumber: sku.skuPartNumber,
      subscriptionIds: [],
      prepaidUnits: { enabled: units.enabled, suspended: 0, warning: 0, lockedOut: 0 },
      servicePlans: sku.servicePlans.map((plan) => ({
        servicePlanId: plan.servicePlanId,
        servicePlanName: plan.servicePlanName,
        provisioningStatus: 'Success',
        appliesTo: 'User',
      })),
    };
  });
}

/** GET /users/{id}/licenseDetails: per-SKU plans with their provisioning status. */
export function licenseDetailsJson(user: SimUser): Json[] {
  return assignedLicenses(user).map((entry) => {
    const { skuId, disabledPlans } = entry as { skuId: string; disabledPlans: string[] };
    const sku = skuById(skuId);
    return {
      id: `${user.id}_${skuId}`,
      skuId,
      skuPartNumber: sku?.skuPartNumber ?? null,
      servicePlans: (sku?.servicePlans ?? []).map((plan) => ({
        servicePlanId: plan.servicePlanId,
        servicePlanName: plan.servicePlanName,
        provisioningStatus: disabledPlans.includes(plan.servicePlanId) ? 'Disabled' : 'Success',
        appliesTo: 'User',
      })),
    };
  });
}
