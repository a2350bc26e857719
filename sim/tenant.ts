/**
 * The simulated tenant's state: Entra users with licences, Exchange mailboxes with their audit
 * configuration, bypass associations and the organization config, generated deterministically from
 * a seed with a known mix of drift.
 *
 * Besides the state, every mailbox carries the generator's own record of what it broke
 * (`MailboxDrift`). `groundTruth()` reads only those records — never the Graph/Exchange state — so
 * it is an oracle independent of the scanner's rules. Every mutation (through the simulated APIs or
 * the helpers in mutations.ts) updates the record together with the state.
 */
import { DEFAULT_POLICY } from '../shared/config/policy';
import type { RuleId } from '../shared/domain/finding';
import {
  ADVANCED_AUDITING_PLAN_ID,
  DEFAULT_ACTIONS,
  EXCHANGE_ENTERPRISE_CAPABILITY,
  LOGON_TYPES,
  M365_AUDITING_CAPABILITY,
  MAIL_ITEMS_ACCESSED,
  MANAGED_LISTS_PREMIUM,
  MANAGED_LISTS_STANDARD,
  PREMIUM_ONLY,
  SKU_E3,
  SKU_E5,
  VALID_ACTIONS,
  type LogonType,
} from './catalog';
import { nextGuid, streamFor, type Prng } from './prng';

export type MailboxKind = 'UserMailbox' | 'SharedMailbox' | 'RoomMailbox' | 'EquipmentMailbox';
export type AuditLogAgeLimitFormat = 'timespan' | 'iso8601';
export type AuditLists = Readonly<Record<LogonType, readonly string[]>>;

/** One row of Graph's licenseAssignmentStates: a SKU reaching the user directly or through a group. */
export interface LicenceAssignment {
  readonly skuId: string;
  readonly disabledPlans: readonly string[];
  /** Group id for group-based licensing; null for a direct assignment. */
  readonly assignedByGroup: string | null;
}

export interface SimUser {
  readonly index: number;
  /** Entra object id; also the mailbox's ExternalDirectoryObjectId. */
  readonly id: string;
  readonly userPrincipalName: string;
  readonly mail: string;
  readonly mailNickname: string;
  readonly displayName: string;
  readonly givenName: string | null;
  readonly surname: string | null;
  readonly jobTitle: string | null;
  readonly department: string | null;
  readonly accountEnabled: boolean;
  readonly userType: 'Member';
  usageLocation: string | null;
  /** Shared between users with the same licences (copy-on-write). */
  licences: readonly LicenceAssignment[];
  /** assignedPlans keeps the audit plan as a `Deleted` entry once it was enabled and then disabled. */
  auditPlanDeletedEntry: boolean;
  /**
   * The known group-licensing failure: the plan reaches the user only through a group, Graph shows
   * it Enabled, but Exchange never provisioned it. Cleared by a direct assignment or by toggling the
   * plan off and on in the group.
   */
  groupProvisioningFailed: boolean;
}

/** What the generator (and later mutations) made differ from a clean mailbox: the oracle's input. */
export interface MailboxDrift {
  readonly auditDisabled: boolean;
  readonly retentionShort: boolean;
  /** Policy-required actions absent from each logon type's list (MailItemsAccessed included). */
  readonly missingActions: Readonly<Partial<Record<LogonType, readonly string[]>>>;
  /** Logon types taken out of DefaultAuditSet. */
  readonly customised: readonly LogonType[];
  /** A SKU with the Advanced Auditing plan is assigned, but the plan is disabled. */
  readonly planDisabled: boolean;
  /** The plan reaches the user only through a group and Exchange refuses MailItemsAccessed. */
  readonly groupFailure: boolean;
}

export interface SimBypassAssociation {
  readonly index: number;
  /** The association's own Guid: the finding's objectId. */
  readonly guid: string;
  /** Identity as Exchange prints it (the account's name). */
  readonly identity: string;
  readonly mailbox: SimMailbox;
  auditBypassEnabled: boolean;
  /** The oracle's record: bypass was injected (or set through the API) and not yet removed. */
  bypassDrift: boolean;
}

export interface SimMailbox {
  readonly index: number;
  readonly user: SimUser;
  readonly guid: string;
  readonly alias: string;
  readonly displayName: string;
  readonly primarySmtpAddress: string;
  readonly recipientTypeDetails: MailboxKind;
  auditEnabled: boolean;
  auditLogAgeLimitSeconds: number;
  /** Shared between clean mailboxes; replaced, never mutated in place. */
  audit: AuditLists;
  defaultAuditSet: readonly LogonType[];
  persistedCapabilities: readonly string[];
  /** Whether the oracle expects premium actions here: the plan is Enabled per Graph. */
  expectPremium: boolean;
  /** null while the mailbox is clean. */
  drift: MailboxDrift | null;
  association: SimBypassAssociation;
}

export interface GroupLicence {
  readonly skuId: string;
  readonly disabledPlans: readonly string[];
}

export interface SimGroup {
  readonly id: string;
  readonly displayName: string;
  /** The group's licence assignment; members inherit it. */
  licences: readonly GroupLicence[];
  /** User indices. Membership never changes through the simulated APIs, only through helpers. */
  readonly members: Set<number>;
}

export interface SimOrganization {
  /** Get-OrganizationConfig Identity, e.g. contoso-1.onmicrosoft.com; the finding's objectId. */
  readonly identity: string;
  readonly guid: string;
  readonly displayName: string;
  auditDisabled: boolean;
  /** The oracle's record. */
  auditDisabledDrift: boolean;
}

export interface SkuUnits {
  enabled: number;
  consumed: number;
}

export interface SimulatedTenant {
  readonly seed: number;
  readonly tenantId: string;
  /** The initial domain, e.g. contoso-1.onmicrosoft.com. */
  readonly domain: string;
  readonly organization: SimOrganization;
  readonly skuUnits: Map<string, SkuUnits>;
  readonly groups: SimGroup[];
  readonly users: SimUser[];
  /** Index i is user i's mailbox: every simulated user has exactly one mailbox. */
  readonly mailboxes: SimMailbox[];
  readonly associations: SimBypassAssociation[];
  readonly auditLogAgeLimitFormat: AuditLogAgeLimitFormat;
  /** Date the generated licences were assigned; fixed per seed so responses are reproducible. */
  readonly licensedSince: string;
  /** Indices of mailboxes by RecipientTypeDetails, in tenant order (types never change). */
  readonly indicesByType: ReadonlyMap<MailboxKind, Uint32Array>;
  /** Bumped by every mutation; paging snapshots and caches compare against it. */
  version: number;
  /** Lazily built identity lookups. */
  readonly lookups: TenantLookups;
}

export interface GenerateTenantOptions {
  seed: number;
  mailboxes: number;
  /** Set Get-OrganizationConfig AuditDisabled = True (the org-audit-disabled finding). */
  orgAuditDisabled?: boolean;
  /** How Get-Mailbox prints AuditLogAgeLimit: "180.00:00:00" (default) or "P180D". */
  auditLogAgeLimitFormat?: AuditLogAgeLimitFormat;
}

export interface ExpectedFinding {
  ruleId: RuleId;
  objectId: string;
  logonType?: LogonType;
}

export const DAY_SECONDS = 86_400;
/** Retention of a clean mailbox (the default policy's minimum). */
export const CLEAN_RETENTION_DAYS = DEFAULT_POLICY.minimumAuditLogAgeDays;
/** Retention of a drifted mailbox: Exchange's own default. */
export const SHORT_RETENTION_DAYS = 90;
/** Mailbox types the default policy checks; others (rooms, equipment) must not be reported. */
export const DEFAULT_POLICY_MAILBOX_TYPES: ReadonlySet<string> = new Set(DEFAULT_POLICY.mailboxTypes);

export const MAX_MAILBOXES = 1_000_000;

// ---------------------------------------------------------------------------------------------
// Shared, frozen building blocks (copy-on-write: clean mailboxes all point at the same arrays).

const ALL_TYPES: readonly LogonType[] = Object.freeze([...LOGON_TYPES]);
const NO_PLANS: readonly string[] = Object.freeze([]);
const NO_LICENCES: readonly LicenceAssignment[] = Object.freeze([]);
const AUDIT_PLAN_DISABLED: readonly string[] = Object.freeze([ADVANCED_AUDITING_PLAN_ID]);

export const CAPABILITIES_NONE: readonly string[] = Object.freeze([]);
export const CAPABILITIES_STANDARD: readonly string[] = Object.freeze([EXCHANGE_ENTERPRISE_CAPABILITY]);
export const CAPABILITIES_PREMIUM: readonly string[] = Object.freeze([EXCHANGE_ENTERPRISE_CAPABILITY, M365_AUDITING_CAPABILITY]);

/** The group-licensing failure's lists: MailItemsAccessed missing everywhere, DefaultAuditSet intact. */
export const GROUP_FAILURE_LISTS: AuditLists = Object.freeze({
  Owner: Object.freeze(MANAGED_LISTS_PREMIUM.Owner.filter((a) => a !== MAIL_ITEMS_ACCESSED)),
  Delegate: Object.freeze(MANAGED_LISTS_PREMIUM.Delegate.filter((a) => a !== MAIL_ITEMS_ACCESSED)),
  Admin: Object.freeze(MANAGED_LISTS_PREMIUM.Admin.filter((a) => a !== MAIL_ITEMS_ACCESSED)),
});

/** The actions the default policy requires for a logon type (premium ones only where licensed). */
export function expectedActions(expectPremium: boolean, logonType: LogonType): readonly string[] {
  return (expectPremium ? MANAGED_LISTS_PREMIUM : MANAGED_LISTS_STANDARD)[logonType];
}

// ---------------------------------------------------------------------------------------------
// Generation

type LicenceClass = 'e5-direct' | 'e5-group' | 'e5-plan-disabled' | 'e5-group-failure' | 'e3-direct' | 'e3-group' | 'none';

interface ActionChange {
  logonType: LogonType;
  action: string;
}

/** What the generator decides for one mailbox before building it. */
interface MailboxSpec {
  type: MailboxKind;
  licence: LicenceClass;
  auditDisabled?: boolean;
  retentionShort?: boolean;
  /** MailItemsAccessed removed from this logon type (licensed, capable mailboxes only). */
  miaRemoved?: LogonType;
  actionRemoved?: ActionChange;
  /** A valid non-default action added: customises the logon type without missing anything. */
  actionAdded?: ActionChange;
  bypass?: boolean;
  noUsageLocation?: boolean;
  /** For a disabled plan: keep a `Deleted` entry in assignedPlans (else the entry is absent). */
  deletedEntry?: boolean;
}

/**
 * One of every kind of drift, placed at seeded positions, so that even a small tenant exercises
 * every rule. Earlier entries matter more: a tenant of N < length mailboxes gets the first N.
 */
const GUARANTEED_SPECS: readonly MailboxSpec[] = [
  { type: 'UserMailbox', licence: 'e5-direct', auditDisabled: true },
  { type: 'UserMailbox', licence: 'e5-direct', retentionShort: true },
  { type: 'UserMailbox', licence: 'e5-direct', miaRemoved: 'Owner' },
  { type: 'UserMailbox', licence: 'e5-group', actionRemoved: { logonType: 'Delegate', action: 'UpdateInboxRules' } },
  { type: 'UserMailbox', licence: 'e5-plan-disabled', deletedEntry: true },
  { type: 'UserMailbox', licence: 'e5-group-failure' },
  { type: 'UserMailbox', licence: 'e5-direct', bypass: true },
  { type: 'SharedMailbox', licence: 'none', retentionShort: true },
  { type: 'UserMailbox', licence: 'e5-direct' },
  { type: 'UserMailbox', licence: 'e5-group' },
  { type: 'UserMailbox', licence: 'e3-direct' },
  { type: 'SharedMailbox', licence: 'none' },
  { type: 'RoomMailbox', licence: 'none', retentionShort: true, auditDisabled: true },
  { type: 'UserMailbox', licence: 'e5-group-failure', noUsageLocation: true },
  { type: 'UserMailbox', licence: 'e5-plan-disabled', deletedEntry: false },
  { type: 'UserMailbox', licence: 'e3-direct', actionRemoved: { logonType: 'Owner', action: 'HardDelete' } },
  { type: 'UserMailbox', licence: 'e5-direct', actionAdded: { logonType: 'Owner', action: 'MailboxLogin' } },
  {
    type: 'UserMailbox',
    licence: 'e5-direct',
    miaRemoved: 'Admin',
    actionRemoved: { logonType: 'Admin', action: 'UpdateInboxRules' },
  },
  { type: 'EquipmentMailbox', licence: 'none', actionRemoved: { logonType: 'Owner', action: 'SoftDelete' } },
  { type: 'SharedMailbox', licence: 'none', actionRemoved: { logonType: 'Admin', action: 'SoftDelete' } },
  { type: 'UserMailbox', licence: 'e3-group' },
  { type: 'RoomMailbox', licence: 'none' },
];

/**
 * Rates of the random part of the mix. Each drift stays at a few percent so a 100,000-mailbox
 * tenant has thousands of findings of every kind and a 200-mailbox tenant still has a handful.
 */
const MIX = {
  type: { user: 0.8, shared: 0.13, room: 0.045 /* rest: equipment */ },
  licence: { e5Direct: 0.5, e5Group: 0.2, e3: 0.23, planDisabled: 0.035 /* rest: group failure */ },
  user: { auditDisabled: 0.03, retentionShort: 0.04, miaRemoved: 0.03, actionRemoved: 0.03, actionAdded: 0.02, bypass: 0.01 },
  shared: { auditDisabled: 0.02, retentionShort: 0.15, actionRemoved: 0.03, actionAdded: 0.01 },
  resource: { auditDisabled: 0.1, retentionShort: 0.5, actionRemoved: 0.1 },
  groupWithoutUsageLocation: 0.3,
} as const;

const FIRST_NAMES = [
  'Adele', 'Alex', 'Allan', 'Bianca', 'Brian', 'Carla', 'Chen', 'Christie', 'Debra', 'Diego', 'Elena', 'Emily', 'Enrico',
  'Fatima', 'Grady', 'Hana', 'Henrietta', 'Ines', 'Irvin', 'Isaiah', 'Jamal', 'Johanna', 'Joni', 'Kenji', 'Lee', 'Lidia',
  'Lynne', 'Maria', 'Megan', 'Miriam', 'Nestor', 'Noor', 'Olga', 'Patti', 'Pradeep', 'Quinn', 'Rafael', 'Rosa', 'Sakura',
  'Sanjay', 'Sofia', 'Tomas', 'Uma', 'Valeria', 'Wei', 'Xavier', 'Yara', 'Zoltan',
];
const LAST_NAMES = [
  'Vance', 'Wilber', 'Deyoung', 'Pires', 'Johnson', 'Lopez', 'Cline', 'Berg', 'Gonzalez', 'Zrinyi', 'Dubois', 'Sato',
  'Nakamura', 'Okafor', 'Petrov', 'Kowalski', 'Schmidt', 'Rossi', 'Silva', 'Haddad', 'Novak', 'Jensen', 'Murphy', 'Ivanova',
  'Fernandes', 'Larsen', 'Moreau', 'Costa', 'Tanaka', 'Singh', 'Kim', 'Nguyen', 'Adams', 'Baker', 'Clarke', 'Evans',
  'Fischer', 'Garcia', 'Hughes', 'Ito', 'Khan', 'Lindqvist', 'Mendes', 'Olsen', 'Park', 'Reyes', 'Stone', 'Weber',
];
const JOB_TITLES = ['Analyst', 'Engineer', 'Manager', 'Director', 'Consultant', 'Accountant', 'Designer', 'Paralegal'];
const DEPARTMENTS = ['Finance', 'Legal', 'Sales', 'Engineering', 'Marketing', 'Operations', 'HR', 'Support'];
const SHARED_PREFIXES = ['finance', 'hr', 'support', 'sales', 'legal', 'invoices', 'info', 'helpdesk', 'payroll', 'press'];
const USAGE_LOCATIONS = ['US', 'GB', 'DE', 'NL', 'FR', 'SE', 'JP', 'IN'];

interface Builders {
  e5Group: SimGroup;
  e3Group: SimGroup;
  licences: Record<Exclude<LicenceClass, 'none'>, readonly LicenceAssignment[]>;
}

export function generateTenant(options: GenerateTenantOptions): SimulatedTenant {
  const { seed } = options;
  const count = options.mailboxes;
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  if (!Number.isInteger(count) || count < 0 || count > MAX_MAILBOXES) {
    throw new RangeError(`mailboxes must be an integer from 0 to ${MAX_MAILBOXES}, got ${count}`);
  }

  const tenantPrng = streamFor(seed, 'tenant');
  const tenantId = nextGuid(tenantPrng);
  const orgGuid = nextGuid(tenantPrng);
  const label = `contoso-${seed < 0 ? `n${-seed}` : seed}`;
  const domain = `${label}.onmicrosoft.com`;
  const licensedSince = `2024-${String(1 + tenantPrng.nextInt(9)).padStart(2, '0')}-${String(1 + tenantPrng.nextInt(28)).padStart(2, '0')}T09:30:00Z`;

  const e5Group: SimGroup = {
    id: nextGuid(tenantPrng),
    displayName: 'Licensing - Microsoft 365 E5',
    licences: [{ skuId: SKU_E5.skuId, disabledPlans: NO_PLANS }],
    members: new Set(),
  };
  const e3Group: SimGroup = {
    id: nextGuid(tenantPrng),
    displayName: 'Licensing - Microsoft 365 E3',
    licences: [{ skuId: SKU_E3.skuId, disabledPlans: NO_PLANS }],
    members: new Set(),
  };
  const freeze = (assignment: LicenceAssignment): readonly LicenceAssignment[] => Object.freeze([Object.freeze(assignment)]);
  const builders: Builders = {
    e5Group,
    e3Group,
    licences: {
      'e5-direct': freeze({ skuId: SKU_E5.skuId, disabledPlans: NO_PLANS, assignedByGroup: null }),
      'e5-group': freeze({ skuId: SKU_E5.skuId, disabledPlans: NO_PLANS, assignedByGroup: e5Group.id }),
      'e5-group-failure': freeze({ skuId: SKU_E5.skuId, disabledPlans: NO_PLANS, assignedByGroup: e5Group.id }),
      'e5-plan-disabled': freeze({ skuId: SKU_E5.skuId, disabledPlans: AUDIT_PLAN_DISABLED, assignedByGroup: null }),
      'e3-direct': freeze({ skuId: SKU_E3.skuId, disabledPlans: NO_PLANS, assignedByGroup: null }),
      'e3-group': freeze({ skuId: SKU_E3.skuId, disabledPlans: NO_PLANS, assignedByGroup: e3Group.id }),
    },
  };

  const organization: SimOrganization = {
    identity: domain,
    guid: orgGuid,
    displayName: `Contoso ${seed}`,
    auditDisabled: options.orgAuditDisabled === true,
    auditDisabledDrift: options.orgAuditDisabled === true,
  };

  const placement = placeGuaranteedSpecs(count, streamFor(seed, 'placement'));
  const mixPrng = streamFor(seed, 'mix');
  const idPrng = streamFor(seed, 'ids');
  const namePrng = streamFor(seed, 'names');
  const nameCounts = new Map<string, number>();

  const users: SimUser[] = new Array<SimUser>(count);
  const mailboxes: SimMailbox[] = new Array<SimMailbox>(count);
  const associations: SimBypassAssociation[] = new Array<SimBypassAssociation>(count);
  const typeCounts = { UserMailbox: 0, SharedMailbox: 0, RoomMailbox: 0, EquipmentMailbox: 0 };
  const consumed = new Map<string, number>([[SKU_E5.skuId, 0], [SKU_E3.skuId, 0]]);

  for (let index = 0; index < count; index++) {
    const spec = placement.get(index) ?? randomSpec(mixPrng);
    const names = nameFor(spec.type, namePrng, nameCounts, index);
    const user = buildUser(index, spec, names, domain, idPrng, mixPrng, builders);
    const mailbox = buildMailbox(index, spec, user, names, domain, idPrng);
    users[index] = user;
    mailboxes[index] = mailbox;
    associations[index] = mailbox.association;
    for (const licence of user.licences) {
      if (licence.assignedByGroup === e5Group.id) e5Group.members.add(index);
      else if (licence.assignedByGroup === e3Group.id) e3Group.members.add(index);
    }
    typeCounts[spec.type]++;
    for (const skuId of distinctSkus(user.licences)) consumed.set(skuId, (consumed.get(skuId) ?? 0) + 1);
  }

  const indicesByType = new Map<MailboxKind, Uint32Array>();
  const cursors = new Map<MailboxKind, number>();
  for (const type of Object.keys(typeCounts) as MailboxKind[]) {
    indicesByType.set(type, new Uint32Array(typeCounts[type]));
    cursors.set(type, 0);
  }
  for (let index = 0; index < count; index++) {
    const type = (mailboxes[index] as SimMailbox).recipientTypeDetails;
    const cursor = cursors.get(type) ?? 0;
    (indicesByType.get(type) as Uint32Array)[cursor] = index;
    cursors.set(type, cursor + 1);
  }

  // Seats: what is consumed plus some headroom, so assignLicense works but is not unlimited.
  const skuUnits = new Map<string, SkuUnits>();
  for (const [skuId, used] of consumed) skuUnits.set(skuId, { enabled: Math.ceil(used * 1.05) + 25, consumed: used });

  const tenant: SimulatedTenant = {
    seed,
    tenantId,
    domain,
    organization,
    skuUnits,
    groups: [e5Group, e3Group],
    users,
    mailboxes,
    associations,
    auditLogAgeLimitFormat: options.auditLogAgeLimitFormat ?? 'timespan',
    licensedSince,
    indicesByType,
    version: 0,
    lookups: new TenantLookups(),
  };
  tenant.lookups.attach(tenant);
  return tenant;
}

function placeGuaranteedSpecs(count: number, prng: Prng): Map<number, MailboxSpec> {
  const specs = GUARANTEED_SPECS.slice(0, count);
  // Partial Fisher-Yates over a virtual identity permutation: distinct positions in O(specs).
  const swapped = new Map<number, number>();
  const placement = new Map<number, MailboxSpec>();
  specs.forEach((spec, i) => {
    const j = i + prng.nextInt(count - i);
    const position = swapped.get(j) ?? j;
    swapped.set(j, swapped.get(i) ?? i);
    placement.set(position, spec);
  });
  return placement;
}

function randomAction(prng: Prng, logonType: LogonType, from: (type: LogonType) => readonly string[]): ActionChange {
  return { logonType, action: prng.pick(from(logonType)) };
}

const removableActions = (type: LogonType): readonly string[] => MANAGED_LISTS_STANDARD[type];
const addableActions = (type: LogonType): readonly string[] =>
  VALID_ACTIONS[type].filter((action) => !DEFAULT_ACTIONS[type].includes(action) && !PREMIUM_ONLY.has(action));

function randomSpec(prng: Prng): MailboxSpec {
  const roll = prng.next();
  const type: MailboxKind =
    roll < MIX.type.user
      ? 'UserMailbox'
      : roll < MIX.type.user + MIX.type.shared
        ? 'SharedMailbox'
        : roll < MIX.type.user + MIX.type.shared + MIX.type.room
          ? 'RoomMailbox'
          : 'EquipmentMailbox';
  if (type === 'UserMailbox') {
    const l = prng.next();
    const { e5Direct, e5Group, e3, planDisabled } = MIX.licence;
    const licence: LicenceClass =
      l < e5Direct
        ? 'e5-direct'
        : l < e5Direct + e5Group
          ? 'e5-group'
          : l < e5Direct + e5Group + e3
            ? prng.chance(0.5) ? 'e3-direct' : 'e3-group'
            : l < e5Direct + e5Group + e3 + planDisabled
              ? 'e5-plan-disabled'
              : 'e5-group-failure';
    const spec: MailboxSpec = { type, licence };
    const rates = MIX.user;
    if (prng.chance(rates.auditDisabled)) spec.auditDisabled = true;
    if (prng.chance(rates.retentionShort)) spec.retentionShort = true;
    // Only a mailbox that has MailItemsAccessed can lose it by customisation.
    if (prng.chance(rates.miaRemoved) && (licence === 'e5-direct' || licence === 'e5-group')) spec.miaRemoved = prng.pick(LOGON_TYPES);
    if (prng.chance(rates.actionRemoved)) spec.actionRemoved = randomAction(prng, prng.pick(LOGON_TYPES), removableActions);
    if (prng.chance(rates.actionAdded)) spec.actionAdded = randomAction(prng, prng.pick(LOGON_TYPES), addableActions);
    if (prng.chance(rates.bypass)) spec.bypass = true;
    if (licence === 'e5-plan-disabled') spec.deletedEntry = prng.chance(0.5);
    if ((licence === 'e5-group' || licence === 'e5-group-failure' || licence === 'e3-group') && prng.chance(MIX.groupWithoutUsageLocation)) {
      spec.noUsageLocation = true;
    }
    return spec;
  }
  const rates = type === 'SharedMailbox' ? MIX.shared : MIX.resource;
  const spec: MailboxSpec = { type, licence: 'none' };
  if (prng.chance(rates.auditDisabled)) spec.auditDisabled = true;
  if (prng.chance(rates.retentionShort)) spec.retentionShort = true;
  if (prng.chance(rates.actionRemoved)) spec.actionRemoved = randomAction(prng, prng.pick(LOGON_TYPES), removableActions);
  if (type === 'SharedMailbox' && prng.chance(MIX.shared.actionAdded)) {
    spec.actionAdded = randomAction(prng, prng.pick(LOGON_TYPES), addableActions);
  }
  return spec;
}

interface Names {
  alias: string;
  displayName: string;
  givenName: string | null;
  surname: string | null;
}

function nameFor(type: MailboxKind, prng: Prng, counts: Map<string, number>, index: number): Names {
  // The first holder of a name gets it bare; later ones get a number, as admins usually do.
  const unique = (base: string): { alias: string; suffix: string } => {
    const seen = counts.get(base) ?? 0;
    counts.set(base, seen + 1);
    const suffix = seen === 0 ? '' : `${seen + 1}`;
    return { alias: `${base}${suffix}`, suffix };
  };
  const withSuffix = (text: string, suffix: string): string => (suffix ? `${text} ${suffix}` : text);
  switch (type) {
    case 'UserMailbox': {
      const given = prng.pick(FIRST_NAMES);
      const surname = prng.pick(LAST_NAMES);
      const { alias, suffix } = unique(`${given}.${surname}`.toLowerCase());
      return { alias, displayName: withSuffix(`${given} ${surname}`, suffix), givenName: given, surname };
    }
    case 'SharedMailbox': {
      const prefix = prng.pick(SHARED_PREFIXES);
      const { alias, suffix } = unique(`${prefix}-shared`);
      return { alias, displayName: withSuffix(`${prefix.charAt(0).toUpperCase()}${prefix.slice(1)} (shared)`, suffix), givenName: null, surname: null };
    }
    case 'RoomMailbox': {
      const room = `${'abcdef'.charAt(index % 6)}${1 + prng.nextInt(9)}`;
      const { alias, suffix } = unique(`room-${room}`);
      return { alias, displayName: withSuffix(`Room ${room.toUpperCase()}`, suffix), givenName: null, surname: null };
    }
    case 'EquipmentMailbox': {
      const thing = prng.pick(['projector', 'van', 'camera', 'laptop-pool']);
      const { alias, suffix } = unique(`equipment-${thing}`);
      return { alias, displayName: withSuffix(`Equipment ${thing.replace('-', ' ')}`, suffix), givenName: null, surname: null };
    }
  }
}

function buildUser(
  index: number,
  spec: MailboxSpec,
  names: Names,
  domain: string,
  idPrng: Prng,
  mixPrng: Prng,
  builders: Builders,
): SimUser {
  const upn = `${names.alias}@${domain}`;
  const person = spec.type === 'UserMailbox';
  return {
    index,
    id: nextGuid(idPrng),
    userPrincipalName: upn,
    mail: upn,
    mailNickname: names.alias,
    displayName: names.displayName,
    givenName: names.givenName,
    surname: names.surname,
    jobTitle: person ? mixPrng.pick(JOB_TITLES) : null,
    department: person ? mixPrng.pick(DEPARTMENTS) : null,
    // Shared and resource mailboxes have disabled accounts and no licence, as Microsoft recommends.
    accountEnabled: person,
    userType: 'Member',
    usageLocation: person && !spec.noUsageLocation ? mixPrng.pick(USAGE_LOCATIONS) : null,
    licences: spec.licence === 'none' ? NO_LICENCES : builders.licences[spec.licence],
    auditPlanDeletedEntry: spec.licence === 'e5-plan-disabled' && spec.deletedEntry === true,
    groupProvisioningFailed: spec.licence === 'e5-group-failure',
  };
}

function buildMailbox(index: number, spec: MailboxSpec, user: SimUser, names: Names, domain: string, idPrng: Prng): SimMailbox {
  const premiumCapable = spec.licence === 'e5-direct' || spec.licence === 'e5-group';
  // What Graph says (the oracle's notion of "licensed"): the plan shows Enabled for these.
  const expectPremium = premiumCapable || spec.licence === 'e5-group-failure';
  const capabilities = spec.licence === 'none' ? CAPABILITIES_NONE : premiumCapable ? CAPABILITIES_PREMIUM : CAPABILITIES_STANDARD;

  let audit: AuditLists = spec.licence === 'e5-group-failure' ? GROUP_FAILURE_LISTS : premiumCapable ? MANAGED_LISTS_PREMIUM : MANAGED_LISTS_STANDARD;
  let defaultAuditSet = ALL_TYPES;
  let drift: MailboxDrift | null = null;
  // Most mailboxes are clean: they share every array and allocate no drift record.
  if (spec.licence === 'e5-plan-disabled' || spec.licence === 'e5-group-failure' || spec.auditDisabled || spec.retentionShort || spec.miaRemoved || spec.actionRemoved || spec.actionAdded) {
    const customised = new Set<LogonType>();
    const edit = (logonType: LogonType, change: (list: readonly string[]) => string[]): void => {
      audit = { ...audit, [logonType]: Object.freeze(change(audit[logonType])) };
      customised.add(logonType);
    };
    if (spec.miaRemoved) edit(spec.miaRemoved, (list) => list.filter((a) => a !== MAIL_ITEMS_ACCESSED));
    if (spec.actionRemoved) {
      const { logonType, action } = spec.actionRemoved;
      edit(logonType, (list) => list.filter((a) => a !== action));
    }
    if (spec.actionAdded) {
      const { logonType, action } = spec.actionAdded;
      edit(logonType, (list) => [...list, action]);
    }
    if (customised.size > 0) defaultAuditSet = Object.freeze(LOGON_TYPES.filter((type) => !customised.has(type)));

    // The record is written from the spec — what was injected — not by comparing lists to rules.
    const missing: Partial<Record<LogonType, string[]>> = {};
    const addMissing = (logonType: LogonType, action: string): void => {
      (missing[logonType] ??= []).push(action);
    };
    if (spec.licence === 'e5-group-failure') for (const type of LOGON_TYPES) addMissing(type, MAIL_ITEMS_ACCESSED);
    if (spec.miaRemoved) addMissing(spec.miaRemoved, MAIL_ITEMS_ACCESSED);
    if (spec.actionRemoved) addMissing(spec.actionRemoved.logonType, spec.actionRemoved.action);
    drift = normaliseDrift({
      auditDisabled: spec.auditDisabled === true,
      retentionShort: spec.retentionShort === true,
      missingActions: missing,
      customised: LOGON_TYPES.filter((type) => customised.has(type)),
      planDisabled: spec.licence === 'e5-plan-disabled',
      groupFailure: spec.licence === 'e5-group-failure',
    });
  }

  const mailbox: SimMailbox = {
    index,
    user,
    guid: nextGuid(idPrng),
    alias: names.alias,
    displayName: names.displayName,
    primarySmtpAddress: `${names.alias}@${domain}`,
    recipientTypeDetails: spec.type,
    auditEnabled: spec.auditDisabled !== true,
    auditLogAgeLimitSeconds: (spec.retentionShort ? SHORT_RETENTION_DAYS : CLEAN_RETENTION_DAYS) * DAY_SECONDS,
    audit,
    defaultAuditSet,
    persistedCapabilities: capabilities,
    expectPremium,
    drift,
    // Set right below: the association and the mailbox point at each other.
    association: undefined as unknown as SimBypassAssociation,
  };
  mailbox.association = {
    index,
    guid: nextGuid(idPrng),
    identity: names.alias,
    mailbox,
    auditBypassEnabled: spec.bypass === true,
    bypassDrift: spec.bypass === true,
  };
  return mailbox;
}

/** The SKUs a user consumes a seat of: one per SKU, however many ways it is assigned. */
export function distinctSkus(licences: readonly LicenceAssignment[]): readonly string[] {
  if (licences.length <= 1) return licences.map((licence) => licence.skuId);
  return [...new Set(licences.map((licence) => licence.skuId))];
}

/** null for a clean record, so 100,000 clean mailboxes cost one pointer each. */
export function normaliseDrift(drift: MailboxDrift): MailboxDrift | null {
  const anyMissing = LOGON_TYPES.some((type) => (drift.missingActions[type]?.length ?? 0) > 0);
  if (!drift.auditDisabled && !drift.retentionShort && !anyMissing && drift.customised.length === 0 && !drift.planDisabled && !drift.groupFailure) {
    return null;
  }
  return drift;
}

export const CLEAN_DRIFT: MailboxDrift = Object.freeze({
  auditDisabled: false,
  retentionShort: false,
  missingActions: Object.freeze({}),
  customised: Object.freeze([]),
  planDisabled: false,
  groupFailure: false,
});

// ---------------------------------------------------------------------------------------------
// Ground truth

/**
 * The findings a correct scanner reports under the default policy, read only from the drift
 * records (never by evaluating rules over the Graph/Exchange state). Sorted by rule, object and
 * logon type so two runs compare with a plain deep-equal.
 */
export function groundTruth(tenant: SimulatedTenant): ExpectedFinding[] {
  const findings: ExpectedFinding[] = [];
  if (tenant.organization.auditDisabledDrift) findings.push({ ruleId: 'org-audit-disabled', objectId: tenant.organization.identity });
  for (const mailbox of tenant.mailboxes) {
    const drift = mailbox.drift;
    if (!drift || !DEFAULT_POLICY_MAILBOX_TYPES.has(mailbox.recipientTypeDetails)) continue;
    const objectId = mailbox.user.id;
    if (drift.auditDisabled) findings.push({ ruleId: 'mailbox-audit-disabled', objectId });
    if (drift.retentionShort) findings.push({ ruleId: 'retention-too-short', objectId });
    for (const logonType of LOGON_TYPES) {
      const missing = drift.missingActions[logonType] ?? [];
      if (missing.includes(MAIL_ITEMS_ACCESSED)) findings.push({ ruleId: 'mailitemsaccessed-missing', objectId, logonType });
      if (missing.some((action) => action !== MAIL_ITEMS_ACCESSED)) findings.push({ ruleId: 'audit-actions-missing', objectId, logonType });
    }
    for (const logonType of drift.customised) findings.push({ ruleId: 'default-audit-set-customised', objectId, logonType });
    if (drift.planDisabled) findings.push({ ruleId: 'advanced-auditing-plan-missing', objectId });
    if (drift.groupFailure) findings.push({ ruleId: 'licence-inherited-blocks-mia', objectId });
  }
  for (const association of tenant.associations) {
    if (association.bypassDrift) findings.push({ ruleId: 'audit-bypass-enabled', objectId: association.guid });
  }
  return findings.sort(compareFindings);
}

// Plain code-unit order (not localeCompare): stable across machines and fast on 100,000 mailboxes.
const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function compareFindings(a: ExpectedFinding, b: ExpectedFinding): number {
  return compareText(a.ruleId, b.ruleId) || compareText(a.objectId, b.objectId) || compareText(a.logonType ?? '', b.logonType ?? '');
}

/** Ground-truth counts per rule id, for a summary line. */
export function groundTruthCounts(tenant: SimulatedTenant): Partial<Record<RuleId, number>> {
  const counts: Partial<Record<RuleId, number>> = {};
  for (const finding of groundTruth(tenant)) counts[finding.ruleId] = (counts[finding.ruleId] ?? 0) + 1;
  return counts;
}

// ---------------------------------------------------------------------------------------------
// Lookups

/**
 * Identity resolution the way Exchange and Graph accept it. Each map is built on first use, so a
 * tenant that is only paged through never pays for them.
 */
export class TenantLookups {
  private tenant: SimulatedTenant | undefined;
  private byUserId: Map<string, number> | undefined;
  private byMailboxGuid: Map<string, number> | undefined;
  private byAddress: Map<string, number> | undefined;
  private byAlias: Map<string, number> | undefined;
  private byAssociationGuid: Map<string, number> | undefined;

  attach(tenant: SimulatedTenant): void {
    this.tenant = tenant;
  }

  private build(key: (mailbox: SimMailbox) => string[]): Map<string, number> {
    const map = new Map<string, number>();
    for (const mailbox of this.tenant?.mailboxes ?? []) for (const k of key(mailbox)) map.set(k.toLowerCase(), mailbox.index);
    return map;
  }

  /** Graph: /users/{id | userPrincipalName}. */
  user(idOrUpn: string): SimUser | undefined {
    const wanted = idOrUpn.toLowerCase();
    const index = wanted.includes('@')
      ? (this.byAddress ??= this.build((m) => [m.user.userPrincipalName, m.primarySmtpAddress])).get(wanted)
      : (this.byUserId ??= this.build((m) => [m.user.id])).get(wanted);
    return index === undefined ? undefined : this.tenant?.users[index];
  }

  /** Exchange MailboxIdParameter: Guid, ExternalDirectoryObjectId, UPN, primary SMTP, alias or name. */
  mailbox(identity: string): SimMailbox | undefined {
    const wanted = identity.trim().toLowerCase();
    let index: number | undefined;
    if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(wanted)) {
      index = (this.byMailboxGuid ??= this.build((m) => [m.guid])).get(wanted);
      index ??= (this.byUserId ??= this.build((m) => [m.user.id])).get(wanted);
    } else if (wanted.includes('@')) {
      index = (this.byAddress ??= this.build((m) => [m.user.userPrincipalName, m.primarySmtpAddress])).get(wanted);
    } else {
      index = (this.byAlias ??= this.build((m) => [m.alias])).get(wanted);
    }
    return index === undefined ? undefined : this.tenant?.mailboxes[index];
  }

  /** MailboxAuditBypassAssociationIdParameter: the association Guid, or any identity of its account. */
  association(identity: string): SimBypassAssociation | undefined {
    const wanted = identity.trim().toLowerCase();
    const index = (this.byAssociationGuid ??= this.build((m) => [m.association.guid])).get(wanted);
    if (index !== undefined) return this.tenant?.associations[index];
    return this.mailbox(identity)?.association;
  }
}
