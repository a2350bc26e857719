/**
 * How the simulated tenant changes: Exchange's and Entra's own side effects, shared by the simulated
 * APIs (Set-*, assignLicense) and by the helpers tests and demos use to play "an admin fixed X" or
 * "new drift appeared". Each operation updates the state and the oracle's drift record together,
 * so groundTruth() stays right after any sequence of changes.
 *
 * Validation that Exchange or Graph would answer with an error lives in the API layers; these
 * functions trust their input.
 */
import {
  ADVANCED_AUDITING_PLAN_ID,
  LOGON_TYPES,
  managedLists,
  skuById,
  skuHasAuditPlan,
  SKU_E5,
  type LogonType,
} from './catalog';
import {
  CAPABILITIES_NONE,
  CAPABILITIES_PREMIUM,
  CAPABILITIES_STANDARD,
  CLEAN_DRIFT,
  CLEAN_RETENTION_DAYS,
  DAY_SECONDS,
  distinctSkus,
  expectedActions,
  GROUP_FAILURE_LISTS,
  normaliseDrift,
  SHORT_RETENTION_DAYS,
  type GroupLicence,
  type LicenceAssignment,
  type MailboxDrift,
  type SimBypassAssociation,
  type SimGroup,
  type SimMailbox,
  type SimulatedTenant,
  type SimUser,
} from './tenant';

const RETENTION_THRESHOLD_SECONDS = CLEAN_RETENTION_DAYS * DAY_SECONDS;

function updateDrift(mailbox: SimMailbox, patch: Partial<MailboxDrift>): void {
  mailbox.drift = normaliseDrift({ ...(mailbox.drift ?? CLEAN_DRIFT), ...patch });
}

/**
 * Re-derives the missing-actions part of the record after a list or licence change: what the
 * oracle expects for this mailbox (its licence class) minus what the list now holds.
 */
function refreshMissing(mailbox: SimMailbox): void {
  const missing: Partial<Record<LogonType, readonly string[]>> = {};
  for (const logonType of LOGON_TYPES) {
    const list = mailbox.audit[logonType];
    const absent = expectedActions(mailbox.expectPremium, logonType).filter((action) => !list.includes(action));
    if (absent.length > 0) missing[logonType] = absent;
  }
  updateDrift(mailbox, { missingActions: missing });
}

function hasAuditingCapability(mailbox: SimMailbox): boolean {
  return mailbox.persistedCapabilities === CAPABILITIES_PREMIUM;
}

// ---------------------------------------------------------------------------------------------
// Exchange: mailboxes, bypass associations, organization

export function setAuditEnabled(tenant: SimulatedTenant, mailbox: SimMailbox, enabled: boolean): boolean {
  if (mailbox.auditEnabled === enabled) return false;
  mailbox.auditEnabled = enabled;
  updateDrift(mailbox, { auditDisabled: !enabled });
  tenant.version++;
  return true;
}

export function setAuditLogAgeLimit(tenant: SimulatedTenant, mailbox: SimMailbox, seconds: number): boolean {
  if (mailbox.auditLogAgeLimitSeconds === seconds) return false;
  mailbox.auditLogAgeLimitSeconds = seconds;
  updateDrift(mailbox, { retentionShort: seconds < RETENTION_THRESHOLD_SECONDS });
  tenant.version++;
  return true;
}

function sameActions(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((action) => b.includes(action));
}

/**
 * Replaces one logon type's list. Exchange's side effect: a customised logon type leaves
 * DefaultAuditSet, so Microsoft stops adding new actions to it. Writing the same set is not a change.
 */
export function setAuditActions(tenant: SimulatedTenant, mailbox: SimMailbox, logonType: LogonType, actions: readonly string[]): boolean {
  const unique = [...new Set(actions)];
  if (sameActions(mailbox.audit[logonType], unique)) return false;
  mailbox.audit = { ...mailbox.audit, [logonType]: Object.freeze(unique) };
  if (mailbox.defaultAuditSet.includes(logonType)) {
    mailbox.defaultAuditSet = Object.freeze(mailbox.defaultAuditSet.filter((type) => type !== logonType));
  }
  updateDrift(mailbox, { customised: LOGON_TYPES.filter((type) => !mailbox.defaultAuditSet.includes(type)) });
  refreshMissing(mailbox);
  tenant.version++;
  return true;
}

/**
 * Set-Mailbox -DefaultAuditSet: Microsoft manages these logon types again and their lists become
 * its managed set for the mailbox — without premium actions when the mailbox lacks M365Auditing,
 * so a reset never adds MailItemsAccessed there (REFERENCE.md §8, issue 4084).
 */
export function restoreDefaultAuditSet(tenant: SimulatedTenant, mailbox: SimMailbox, logonTypes: readonly LogonType[]): boolean {
  const managed = managedLists(hasAuditingCapability(mailbox));
  let changed = false;
  let audit = mailbox.audit;
  for (const logonType of logonTypes) {
    if (audit[logonType] !== managed[logonType] && !sameActions(audit[logonType], managed[logonType])) changed = true;
    audit = { ...audit, [logonType]: managed[logonType] };
  }
  const defaultAuditSet = LOGON_TYPES.filter((type) => mailbox.defaultAuditSet.includes(type) || logonTypes.includes(type));
  if (defaultAuditSet.length !== mailbox.defaultAuditSet.length) changed = true;
  if (!changed) return false;
  mailbox.audit = audit;
  mailbox.defaultAuditSet = Object.freeze(defaultAuditSet);
  updateDrift(mailbox, { customised: LOGON_TYPES.filter((type) => !defaultAuditSet.includes(type)) });
  refreshMissing(mailbox);
  tenant.version++;
  return true;
}

export function setAuditBypass(tenant: SimulatedTenant, association: SimBypassAssociation, enabled: boolean): boolean {
  if (association.auditBypassEnabled === enabled) return false;
  association.auditBypassEnabled = enabled;
  association.bypassDrift = enabled;
  tenant.version++;
  return true;
}

export function setOrganizationAuditDisabled(tenant: SimulatedTenant, disabled: boolean): boolean {
  const organization = tenant.organization;
  if (organization.auditDisabled === disabled) return false;
  organization.auditDisabled = disabled;
  organization.auditDisabledDrift = disabled;
  tenant.version++;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Entra: licences

interface LicenceFacts {
  anySku: boolean;
  /** Some assigned SKU contains the Advanced Auditing plan. */
  planSku: boolean;
  /** The plan is enabled in at least one assignment (Graph then shows it Enabled). */
  planEnabled: boolean;
  /** ... in a direct assignment. */
  planEnabledDirect: boolean;
}

export function licenceFacts(licences: readonly LicenceAssignment[]): LicenceFacts {
  const facts: LicenceFacts = { anySku: licences.length > 0, planSku: false, planEnabled: false, planEnabledDirect: false };
  for (const licence of licences) {
    const sku = skuById(licence.skuId);
    if (!sku || !skuHasAuditPlan(sku)) continue;
    facts.planSku = true;
    if (licence.disabledPlans.includes(ADVANCED_AUDITING_PLAN_ID)) continue;
    facts.planEnabled = true;
    if (licence.assignedByGroup === null) facts.planEnabledDirect = true;
  }
  return facts;
}

function updateSeats(tenant: SimulatedTenant, before: readonly LicenceAssignment[], after: readonly LicenceAssignment[]): void {
  const had = new Set(distinctSkus(before));
  const has = new Set(distinctSkus(after));
  for (const skuId of had) if (!has.has(skuId)) tenant.skuUnits.get(skuId)!.consumed--;
  for (const skuId of has) if (!had.has(skuId)) tenant.skuUnits.get(skuId)!.consumed++;
}

/**
 * Applies a user's new licences and what follows in Exchange: the M365Auditing capability appears
 * or disappears, and logon types Microsoft still manages gain or lose the premium actions.
 */
function applyLicences(tenant: SimulatedTenant, user: SimUser, licences: readonly LicenceAssignment[]): void {
  const before = licenceFacts(user.licences);
  updateSeats(tenant, user.licences, licences);
  user.licences = licences;
  const after = licenceFacts(licences);
  // A direct assignment is one of the two documented fixes of the group-licensing failure.
  if (after.planEnabledDirect) user.groupProvisioningFailed = false;
  if (before.planEnabled && !after.planEnabled) user.auditPlanDeletedEntry = true;
  if (after.planEnabled) user.auditPlanDeletedEntry = false;
  refreshLicenceEffects(tenant, tenant.mailboxes[user.index]!);
}

function refreshLicenceEffects(tenant: SimulatedTenant, mailbox: SimMailbox): void {
  const user = mailbox.user;
  const facts = licenceFacts(user.licences);
  const capable = facts.planEnabled && !user.groupProvisioningFailed;
  const hadCapability = hasAuditingCapability(mailbox);
  mailbox.persistedCapabilities = !facts.anySku ? CAPABILITIES_NONE : capable ? CAPABILITIES_PREMIUM : CAPABILITIES_STANDARD;
  if (capable !== hadCapability) {
    const managed = managedLists(capable);
    let audit = mailbox.audit;
    for (const logonType of mailbox.defaultAuditSet) audit = { ...audit, [logonType]: managed[logonType] };
    mailbox.audit = audit;
  }
  mailbox.expectPremium = facts.planEnabled;
  updateDrift(mailbox, {
    planDisabled: facts.planSku && !facts.planEnabled,
    groupFailure: facts.planEnabled && !facts.planEnabledDirect && user.groupProvisioningFailed,
  });
  refreshMissing(mailbox);
  tenant.version++;
}

export interface LicenceChange {
  addLicenses: readonly { skuId: string; disabledPlans: readonly string[] }[];
  removeLicenses: readonly string[];
}

/** Graph assignLicense on a user, after the API layer validated it: direct assignments only. */
export function assignUserLicences(tenant: SimulatedTenant, user: SimUser, change: LicenceChange): void {
  const touched = new Set([...change.addLicenses.map((l) => l.skuId.toLowerCase()), ...change.removeLicenses.map((id) => id.toLowerCase())]);
  const kept = user.licences.filter((licence) => licence.assignedByGroup !== null || !touched.has(licence.skuId));
  const added = change.addLicenses.map(
    (licence): LicenceAssignment =>
      Object.freeze({ skuId: licence.skuId.toLowerCase(), disabledPlans: Object.freeze([...licence.disabledPlans].map((id) => id.toLowerCase())), assignedByGroup: null }),
  );
  applyLicences(tenant, user, Object.freeze([...kept, ...added]));
}

/**
 * Graph assignLicense on a group: members inherit the new assignment at once (Entra does it
 * asynchronously). Turning the Advanced Auditing plan back on in the group is the documented
 * toggle that repairs the group-licensing failure for its members.
 */
export function assignGroupLicences(tenant: SimulatedTenant, group: SimGroup, change: LicenceChange): void {
  const planEnabledBefore = groupPlanEnabled(group.licences);
  const touched = new Set([...change.addLicenses.map((l) => l.skuId.toLowerCase()), ...change.removeLicenses.map((id) => id.toLowerCase())]);
  group.licences = Object.freeze([
    ...group.licences.filter((licence) => !touched.has(licence.skuId)),
    ...change.addLicenses.map((licence): GroupLicence => ({ skuId: licence.skuId.toLowerCase(), disabledPlans: Object.freeze(licence.disabledPlans.map((id) => id.toLowerCase())) })),
  ]);
  const toggledOn = !planEnabledBefore && groupPlanEnabled(group.licences);
  // Members that shared a licence array keep sharing the replacement.
  const replacements = new Map<readonly LicenceAssignment[], readonly LicenceAssignment[]>();
  const inherited = group.licences.map((licence): LicenceAssignment => Object.freeze({ ...licence, assignedByGroup: group.id }));
  for (const index of group.members) {
    const user = tenant.users[index]!;
    let next = replacements.get(user.licences);
    if (!next) {
      next = Object.freeze([...user.licences.filter((licence) => licence.assignedByGroup !== group.id), ...inherited]);
      replacements.set(user.licences, next);
    }
    if (toggledOn) user.groupProvisioningFailed = false;
    applyLicences(tenant, user, next);
  }
}

function groupPlanEnabled(licences: readonly GroupLicence[]): boolean {
  return licences.some((licence) => {
    const sku = skuById(licence.skuId);
    return sku !== undefined && skuHasAuditPlan(sku) && !licence.disabledPlans.includes(ADVANCED_AUDITING_PLAN_ID);
  });
}

// ---------------------------------------------------------------------------------------------
// Helpers for tests and demos

export type DriftInjection =
  | { kind: 'audit-disabled' }
  | { kind: 'retention-short'; days?: number }
  /** Customises the logon type; removing MailItemsAccessed gives mailitemsaccessed-missing. */
  | { kind: 'action-removed'; logonType: LogonType; action: string }
  /** Customises the logon type without anything missing (default-audit-set-customised only). */
  | { kind: 'action-added'; logonType: LogonType; action: string }
  /** The user's E5 becomes a direct assignment with the Advanced Auditing plan disabled. */
  | { kind: 'plan-disabled' }
  /** The user's E5 comes only through the E5 group and Exchange never provisioned the plan. */
  | { kind: 'group-failure' }
  | { kind: 'bypass-enabled' };

export type DriftFix = 'audit-disabled' | 'retention-short' | 'audit-actions' | 'plan-disabled' | 'group-failure' | 'bypass-enabled' | 'all';

export class UnknownIdentityError extends Error {
  override readonly name = 'UnknownIdentityError';
}

function mailboxOrThrow(tenant: SimulatedTenant, identity: string): SimMailbox {
  const mailbox = tenant.lookups.mailbox(identity);
  if (!mailbox) throw new UnknownIdentityError(`No simulated mailbox matches '${identity}'.`);
  return mailbox;
}

function e5Group(tenant: SimulatedTenant): SimGroup {
  const group = tenant.groups.find((g) => g.licences.some((licence) => licence.skuId === SKU_E5.skuId));
  if (!group) throw new Error('The simulated tenant has no E5 licensing group.');
  return group;
}

function planSku(skuId: string): boolean {
  const sku = skuById(skuId);
  return sku !== undefined && skuHasAuditPlan(sku);
}

function withoutPlanSkus(licences: readonly LicenceAssignment[]): LicenceAssignment[] {
  return licences.filter((licence) => !planSku(licence.skuId));
}

/** "New drift appeared": changes one mailbox (by any identity Exchange accepts) as an admin or intruder would. */
export function injectDrift(tenant: SimulatedTenant, identity: string, injection: DriftInjection): void {
  const mailbox = mailboxOrThrow(tenant, identity);
  const user = mailbox.user;
  switch (injection.kind) {
    case 'audit-disabled':
      setAuditEnabled(tenant, mailbox, false);
      return;
    case 'retention-short':
      setAuditLogAgeLimit(tenant, mailbox, (injection.days ?? SHORT_RETENTION_DAYS) * DAY_SECONDS);
      return;
    case 'action-removed':
      setAuditActions(tenant, mailbox, injection.logonType, mailbox.audit[injection.logonType].filter((action) => action !== injection.action));
      return;
    case 'action-added':
      setAuditActions(tenant, mailbox, injection.logonType, [...mailbox.audit[injection.logonType], injection.action]);
      return;
    case 'plan-disabled':
      for (const licence of user.licences) {
        if (licence.assignedByGroup !== null && planSku(licence.skuId)) tenant.groups.find((g) => g.id === licence.assignedByGroup)?.members.delete(user.index);
      }
      applyLicences(tenant, user, Object.freeze([
        ...withoutPlanSkus(user.licences),
        Object.freeze({ skuId: SKU_E5.skuId, disabledPlans: Object.freeze([ADVANCED_AUDITING_PLAN_ID]), assignedByGroup: null }),
      ]));
      return;
    case 'group-failure': {
      const group = e5Group(tenant);
      group.members.add(user.index);
      user.groupProvisioningFailed = true;
      const inherited = group.licences.map((licence): LicenceAssignment => Object.freeze({ ...licence, assignedByGroup: group.id }));
      applyLicences(tenant, user, Object.freeze([...withoutPlanSkus(user.licences), ...inherited]));
      // Same shape as a generated failure: only MailItemsAccessed is gone from the managed lists.
      let audit = mailbox.audit;
      for (const logonType of mailbox.defaultAuditSet) audit = { ...audit, [logonType]: GROUP_FAILURE_LISTS[logonType] };
      mailbox.audit = audit;
      refreshMissing(mailbox);
      return;
    }
    case 'bypass-enabled':
      setAuditBypass(tenant, mailbox.association, true);
      return;
  }
}

/** "An admin fixed X" on one mailbox; 'all' makes it clean. */
export function fixDrift(tenant: SimulatedTenant, identity: string, fix: DriftFix = 'all'): void {
  const mailbox = mailboxOrThrow(tenant, identity);
  const user = mailbox.user;
  const all = fix === 'all';
  if (all || fix === 'plan-disabled') {
    const facts = licenceFacts(user.licences);
    if (facts.planSku && !facts.planEnabled) {
      applyLicences(tenant, user, Object.freeze(user.licences.map((licence) =>
        licence.disabledPlans.includes(ADVANCED_AUDITING_PLAN_ID)
          ? Object.freeze({ ...licence, disabledPlans: Object.freeze(licence.disabledPlans.filter((id) => id !== ADVANCED_AUDITING_PLAN_ID)) })
          : licence,
      )));
    }
  }
  if ((all || fix === 'group-failure') && user.groupProvisioningFailed) {
    // As if the plan had been toggled off and on in the group, for this user only.
    user.groupProvisioningFailed = false;
    refreshLicenceEffects(tenant, mailbox);
  }
  if (all || fix === 'audit-disabled') setAuditEnabled(tenant, mailbox, true);
  if (all || fix === 'retention-short') setAuditLogAgeLimit(tenant, mailbox, CLEAN_RETENTION_DAYS * DAY_SECONDS);
  if (all || fix === 'audit-actions') {
    restoreDefaultAuditSet(tenant, mailbox, LOGON_TYPES);
  }
  if (all || fix === 'bypass-enabled') setAuditBypass(tenant, mailbox.association, false);
}
