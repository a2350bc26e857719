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
  M365_AUDITING_CAPABILITY,
  MAIL_ITEMS_ACCESSED,
  managedLists,
  skuById,
  skuHasAuditPlan,
  SKU_E5,
  type LogonType,
} from './catalog';
import { SEND } from './microsoft-facts';
import { requiredActions } from './pinned-policy';
import {
  auditLogAgeIsShort,
  CAPABILITIES_NONE,
  CAPABILITIES_PREMIUM,
  CAPABILITIES_STANDARD,
  CLEAN_DRIFT,
  CLEAN_RETENTION_DAYS,
  DAY_SECONDS,
  defaultReprocessRepairs,
  distinctSkus,
  normaliseDrift,
  SHORT_RETENTION_DAYS,
  ualRetentionFor,
  type AuditLists,
  type GroupLicence,
  type LicenceAssignment,
  type MailboxDrift,
  type SimBypassAssociation,
  type SimGroup,
  type SimMailbox,
  type SimulatedTenant,
  type SimUser,
} from './tenant';

function updateDrift(mailbox: SimMailbox, patch: Partial<MailboxDrift>): void {
  mailbox.drift = normaliseDrift({ ...(mailbox.drift ?? CLEAN_DRIFT), ...patch });
}

/**
 * Re-derives the missing-actions part of the record after a list or licence change: what the
 * pinned policy requires (the same for every in-scope mailbox) minus what the list now holds.
 */
function refreshMissing(mailbox: SimMailbox): void {
  const missing: Partial<Record<LogonType, readonly string[]>> = {};
  for (const logonType of LOGON_TYPES) {
    const list = mailbox.audit[logonType];
    const absent = requiredActions(logonType).filter((action) => !list.includes(action));
    if (absent.length > 0) missing[logonType] = absent;
  }
  updateDrift(mailbox, { missingActions: missing });
}

function hasAuditingCapability(mailbox: SimMailbox): boolean {
  return mailbox.persistedCapabilities.includes(M365_AUDITING_CAPABILITY);
}

/** The group-licensing failure as Exchange lives it: the plan is on (per Graph) only through a group, never provisioned. */
export function groupFailureActive(user: SimUser): boolean {
  return user.groupProvisioningFailed && licenceFacts(user.licences).planEnabled;
}

/** Microsoft's managed lists for this mailbox now (licence model, capability, failure). */
export function managedListsFor(tenant: SimulatedTenant, mailbox: SimMailbox): AuditLists {
  return managedLists(tenant.licenceModel, hasAuditingCapability(mailbox), groupFailureActive(mailbox.user));
}

/**
 * Whether Exchange refuses to add this action to this mailbox with the licence error: in both
 * licence models MailItemsAccessed during the group-licensing failure; in the '2023' model also
 * MailItemsAccessed and Send on any mailbox without the M365Auditing capability.
 */
export function licenceRefuses(tenant: SimulatedTenant, mailbox: SimMailbox, action: string): boolean {
  if (hasAuditingCapability(mailbox)) return false;
  if (action === MAIL_ITEMS_ACCESSED) return tenant.licenceModel === '2023' || groupFailureActive(mailbox.user);
  if (action === SEND) return tenant.licenceModel === '2023';
  return false;
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
  updateDrift(mailbox, { auditLogAgeShort: auditLogAgeIsShort(seconds) });
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
 * its managed set for the mailbox: in the '2026' model the full list (MailItemsAccessed and Send
 * included) whatever the licence; in the '2023' model without them when the mailbox lacks
 * M365Auditing (REFERENCE.md §8, issue 4084); during the group-licensing failure without
 * MailItemsAccessed in both models.
 */
export function restoreDefaultAuditSet(tenant: SimulatedTenant, mailbox: SimMailbox, logonTypes: readonly LogonType[]): boolean {
  const managed = managedListsFor(tenant, mailbox);
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

/** Set-AdminAuditLogConfig -UnifiedAuditLogIngestionEnabled (takes effect at once in the simulator). */
export function setUnifiedAuditLogIngestion(tenant: SimulatedTenant, enabled: boolean): boolean {
  const organization = tenant.organization;
  if (organization.unifiedAuditLogIngestionEnabled === enabled) return false;
  organization.unifiedAuditLogIngestionEnabled = enabled;
  organization.ingestionDisabledDrift = !enabled;
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
  mailbox.persistedCapabilities = !facts.anySku ? CAPABILITIES_NONE : capable ? CAPABILITIES_PREMIUM : CAPABILITIES_STANDARD;
  // Logon types Microsoft manages always hold its current managed list for the mailbox.
  const managed = managedListsFor(tenant, mailbox);
  let audit = mailbox.audit;
  for (const logonType of mailbox.defaultAuditSet) if (audit[logonType] !== managed[logonType]) audit = { ...audit, [logonType]: managed[logonType] };
  mailbox.audit = audit;
  mailbox.ualRetentionDays = ualRetentionFor(facts.planEnabled);
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

/**
 * Graph reprocessLicenseAssignment: re-runs the user's group-based assignments. It changes no plan;
 * it clears the group-licensing failure only for users with `reprocessRepairs` (a seeded half of
 * the failures). Returns whether anything changed.
 */
export function reprocessLicenceAssignment(tenant: SimulatedTenant, user: SimUser): boolean {
  if (!user.groupProvisioningFailed || !user.reprocessRepairs) return false;
  if (!user.licences.some((licence) => licence.assignedByGroup !== null)) return false;
  user.groupProvisioningFailed = false;
  refreshLicenceEffects(tenant, tenant.mailboxes[user.index]!);
  return true;
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
  /** AuditLogAgeLimit below the minimum (default 90 days); 'retention-short' is the old name. */
  | { kind: 'audit-log-age-short' | 'retention-short'; days?: number }
  /** Customises the logon type; removing MailItemsAccessed gives mailitemsaccessed-missing. */
  | { kind: 'action-removed'; logonType: LogonType; action: string }
  /** Customises the logon type without anything missing (default-audit-set-customised only). */
  | { kind: 'action-added'; logonType: LogonType; action: string }
  /** The user's E5 becomes a direct assignment with the Advanced Auditing plan disabled. */
  | { kind: 'plan-disabled' }
  /**
   * The user's E5 comes only through an E5 group (the "(no Teams)" one with `noTeams`) and Exchange
   * never provisioned the plan. `reprocessRepairs` says whether reprocessLicenseAssignment clears
   * it (default: a seeded coin per user, defaultReprocessRepairs()).
   */
  | { kind: 'group-failure'; noTeams?: boolean; reprocessRepairs?: boolean }
  /** The account (a mailbox's, or a service/admin account without a mailbox) bypasses auditing. */
  | { kind: 'bypass-enabled' };

export type DriftFix =
  | 'audit-disabled'
  | 'audit-log-age-short'
  | 'retention-short'
  | 'audit-actions'
  | 'plan-disabled'
  | 'group-failure'
  | 'bypass-enabled'
  | 'all';

/** Tenant-wide drift: the organization's switches. */
export type TenantDrift = 'org-audit-disabled' | 'ingestion-disabled';

export class UnknownIdentityError extends Error {
  override readonly name = 'UnknownIdentityError';
}

function mailboxOrThrow(tenant: SimulatedTenant, identity: string): SimMailbox {
  const mailbox = tenant.lookups.mailbox(identity);
  if (!mailbox) throw new UnknownIdentityError(`No simulated mailbox matches '${identity}'.`);
  return mailbox;
}

function e5Group(tenant: SimulatedTenant, noTeams: boolean): SimGroup {
  const group = tenant.groups.find(
    (g) => g.licences.some((licence) => licence.skuId === SKU_E5.skuId) && g.displayName.includes('(no Teams)') === noTeams,
  );
  if (!group) throw new Error('The simulated tenant has no such E5 licensing group.');
  return group;
}

function planSku(skuId: string): boolean {
  const sku = skuById(skuId);
  return sku !== undefined && skuHasAuditPlan(sku);
}

function withoutPlanSkus(licences: readonly LicenceAssignment[]): LicenceAssignment[] {
  return licences.filter((licence) => !planSku(licence.skuId));
}

/**
 * "New drift appeared": changes one mailbox (by any identity Exchange accepts) as an admin or
 * intruder would. 'bypass-enabled' also takes an account without a mailbox (name, UPN or the
 * association's Guid).
 */
export function injectDrift(tenant: SimulatedTenant, identity: string, injection: DriftInjection): void {
  if (injection.kind === 'bypass-enabled') {
    const association = tenant.lookups.association(identity);
    if (!association) throw new UnknownIdentityError(`No simulated mailbox or account matches '${identity}'.`);
    setAuditBypass(tenant, association, true);
    return;
  }
  const mailbox = mailboxOrThrow(tenant, identity);
  const user = mailbox.user;
  switch (injection.kind) {
    case 'audit-disabled':
      setAuditEnabled(tenant, mailbox, false);
      return;
    case 'audit-log-age-short':
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
      const group = e5Group(tenant, injection.noTeams === true);
      for (const licence of user.licences) {
        if (licence.assignedByGroup !== null && planSku(licence.skuId)) tenant.groups.find((g) => g.id === licence.assignedByGroup)?.members.delete(user.index);
      }
      group.members.add(user.index);
      user.groupProvisioningFailed = true;
      user.reprocessRepairs = injection.reprocessRepairs ?? defaultReprocessRepairs(tenant.seed, user.id);
      const inherited = group.licences.map((licence): LicenceAssignment => Object.freeze({ ...licence, assignedByGroup: group.id }));
      // Managed logon types get the failure's lists: only MailItemsAccessed is gone.
      applyLicences(tenant, user, Object.freeze([...withoutPlanSkus(user.licences), ...inherited]));
      return;
    }
  }
}

/**
 * "An admin fixed X" on one mailbox; 'all' makes its configuration and licence drift clean (it
 * does not upgrade a Standard licence: audit-retention-too-short stays for E3, shared and
 * unlicensed mailboxes). 'bypass-enabled' and 'all' also take an account without a mailbox.
 */
export function fixDrift(tenant: SimulatedTenant, identity: string, fix: DriftFix = 'all'): void {
  const all = fix === 'all';
  const mailbox = tenant.lookups.mailbox(identity);
  if (!mailbox) {
    const association = tenant.lookups.association(identity);
    if (!association || !(all || fix === 'bypass-enabled')) throw new UnknownIdentityError(`No simulated mailbox matches '${identity}'.`);
    setAuditBypass(tenant, association, false);
    return;
  }
  const user = mailbox.user;
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
  if (all || fix === 'audit-log-age-short' || fix === 'retention-short') setAuditLogAgeLimit(tenant, mailbox, CLEAN_RETENTION_DAYS * DAY_SECONDS);
  if (all || fix === 'audit-actions') {
    restoreDefaultAuditSet(tenant, mailbox, LOGON_TYPES);
  }
  if (all || fix === 'bypass-enabled') setAuditBypass(tenant, mailbox.association, false);
}

/** "An intruder switched it off": org auditing (AuditDisabled) or unified audit log ingestion. */
export function injectTenantDrift(tenant: SimulatedTenant, drift: TenantDrift): void {
  if (drift === 'org-audit-disabled') setOrganizationAuditDisabled(tenant, true);
  else setUnifiedAuditLogIngestion(tenant, false);
}

/** "An admin switched it back on"; 'all' does both. */
export function fixTenantDrift(tenant: SimulatedTenant, drift: TenantDrift | 'all' = 'all'): void {
  if (drift === 'all' || drift === 'org-audit-disabled') setOrganizationAuditDisabled(tenant, false);
  if (drift === 'all' || drift === 'ingestion-disabled') setUnifiedAuditLogIngestion(tenant, true);
}

/** Convenience for tests: the association of an account (with or without a mailbox). */
export function associationOrThrow(tenant: SimulatedTenant, identity: string): SimBypassAssociation {
  const association = tenant.lookups.association(identity);
  if (!association) throw new UnknownIdentityError(`No simulated mailbox or account matches '${identity}'.`);
  return association;
}
