/**
 * The simulated tenant's state: Entra users with licences, Exchange mailboxes with their audit
 * configuration, bypass associations (for mailbox accounts and for service/admin accounts without
 * a mailbox), the organization config and the admin audit log config, generated deterministically
 * from a seed with a known mix of drift.
 *
 * Besides the state, the generator keeps its own record of what it broke (`MailboxDrift`,
 * `ualRetentionDays`, `bypassDrift`, `auditDisabledDrift`, `ingestionDisabledDrift`).
 * `groundTruth()` and `groundTruthCoverage()` read only those records — never the Graph/Exchange
 * state — under the policy pinned in pinned-policy.ts, so they are an oracle independent of the
 * scanner's rules. Nothing here imports the product (shared/). Every mutation (through the
 * simulated APIs or the helpers in mutations.ts) updates the record together with the state.
 */
import {
  ADVANCED_AUDITING_PLAN_ID,
  EXCHANGE_ENTERPRISE_CAPABILITY,
  GROUP_FAILURE_LISTS,
  LOGON_TYPES,
  M365_AUDITING_CAPABILITY,
  MAIL_ITEMS_ACCESSED,
  MANAGED_LISTS_STANDARD_2023,
  managedLists,
  SKU_E3,
  SKU_E5,
  TEAMS_PLAN_ID,
  VALID_ACTIONS,
  type LicenceModel,
  type LogonType,
} from './catalog';
import { EXCHANGE_DEFAULT_AUDIT_LOG_AGE_DAYS, MANAGED_DEFAULTS, PREMIUM_ONLY_2023, UAL_RETENTION_DAYS } from './microsoft-facts';
import { PINNED_MAILBOX_TYPES, PINNED_POLICY, requiredActions, type OracleRuleId } from './pinned-policy';
import { deriveSeed, nextGuid, streamFor, type Prng } from './prng';

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
  /**
   * Shared between users with the same licences (copy-on-write). A SKU may appear twice (direct
   * and through a group): it consumes one seat and its enabled plans are the union of both.
   */
  licences: readonly LicenceAssignment[];
  /** assignedPlans keeps the audit plan as a `Deleted` entry once it was enabled and then disabled. */
  auditPlanDeletedEntry: boolean;
  /**
   * The known group-licensing failure: the plan reaches the user only through a group, Graph shows
   * it Enabled, but Exchange never provisioned it. Cleared by a direct assignment, by toggling the
   * plan off and on in the group, or — for users with `reprocessRepairs` — by Graph
   * reprocessLicenseAssignment.
   */
  groupProvisioningFailed: boolean;
  /**
   * Whether reprocessLicenseAssignment clears this user's group-licensing failure. Chosen by seed
   * (about half of the failures), so the product's second step (a direct assignLicense) is
   * exercised too. Meaningless while the user has no failure.
   */
  reprocessRepairs: boolean;
}

/** What the generator (and later mutations) made differ from a clean mailbox: the oracle's input. */
export interface MailboxDrift {
  readonly auditDisabled: boolean;
  /** AuditLogAgeLimit below the pinned policy's minimum (mailbox audit log only). */
  readonly auditLogAgeShort: boolean;
  /** Pinned-policy-required actions absent from each logon type's list (MailItemsAccessed included). */
  readonly missingActions: Readonly<Partial<Record<LogonType, readonly string[]>>>;
  /** Logon types taken out of DefaultAuditSet. */
  readonly customised: readonly LogonType[];
  /** A SKU with the Advanced Auditing plan is assigned, but the plan is disabled. */
  readonly planDisabled: boolean;
  /** The plan reaches the user only through a group and Exchange refuses MailItemsAccessed. */
  readonly groupFailure: boolean;
}

/** Who an association belongs to: a mailbox's account, or an account without a mailbox. */
export type AssociationAccountKind = 'mailbox' | 'service' | 'admin';

export interface SimBypassAssociation {
  /** Position in `tenant.associations`. */
  readonly index: number;
  /** The association's own Guid: the finding's objectId. */
  readonly guid: string;
  /** Identity as Exchange prints it (the account's name). */
  readonly identity: string;
  /** The mailbox of the account; null for service and admin accounts without a mailbox. */
  readonly mailbox: SimMailbox | null;
  readonly accountKind: AssociationAccountKind;
  /** For an account without a mailbox: its UPN (`<name>@<domain>`); null for mailbox accounts. */
  readonly accountUpn: string | null;
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
  /**
   * The oracle's record of the user's unified audit log retention: 365 days while Graph shows the
   * Advanced Auditing plan Enabled (E5 direct or through a group, the group-licensing failure
   * included), else 180 (E3, E5 with the plan disabled, shared and unlicensed).
   */
  ualRetentionDays: number;
  /** null while the mailbox has no configuration or licence drift. */
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
  /** Get-AdminAuditLogConfig UnifiedAuditLogIngestionEnabled. */
  unifiedAuditLogIngestionEnabled: boolean;
  /** The oracle's record: ingestion was switched off and not yet back on. */
  ingestionDisabledDrift: boolean;
  /** Get-AdminAuditLogConfig UnifiedAuditLogFirstOptInDate (fixed per seed). */
  readonly unifiedAuditLogFirstOptInDate: string;
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
  readonly licenceModel: LicenceModel;
  readonly organization: SimOrganization;
  readonly skuUnits: Map<string, SkuUnits>;
  /** [E5 group, E5 (no Teams) group, E3 group]. */
  readonly groups: SimGroup[];
  readonly users: SimUser[];
  /** Index i is user i's mailbox: every simulated user has exactly one mailbox. */
  readonly mailboxes: SimMailbox[];
  /**
   * Every bypass association as Get-MailboxAuditBypassAssociation lists it: first the accounts
   * without a mailbox (service and admin accounts), then one per mailbox in mailbox order.
   */
  readonly associations: SimBypassAssociation[];
  /** The associations of accounts without a mailbox (the first entries of `associations`). */
  readonly mailboxlessAssociations: readonly SimBypassAssociation[];
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
  /** Set Get-AdminAuditLogConfig UnifiedAuditLogIngestionEnabled = False (audit-log-ingestion-disabled). */
  ingestionDisabled?: boolean;
  /** How Get-Mailbox prints AuditLogAgeLimit: "180.00:00:00" (default) or "P180D". */
  auditLogAgeLimitFormat?: AuditLogAgeLimitFormat;
  /** Exchange's licence behaviour: '2026' (default) or the old '2023' one (microsoft-facts.ts). */
  licenceModel?: LicenceModel;
}

export interface ExpectedFinding {
  ruleId: OracleRuleId;
  objectId: string;
  logonType?: LogonType;
}

export type CoverageVerdict = 'recorded' | 'at-risk' | 'not-recorded';

/** The oracle's coverage verdict for one in-scope mailbox (DESIGN.md "coverage verdict"). */
export interface ExpectedCoverage {
  /** The mailbox's Entra object id (= ExternalDirectoryObjectId). */
  objectId: string;
  Owner: CoverageVerdict;
  Delegate: CoverageVerdict;
  Admin: CoverageVerdict;
  /** The worst of the three. */
  overall: CoverageVerdict;
  /**
   * Why, per logon type, as rule ids: for `not-recorded` the reasons it is not recorded
   * (org-audit-disabled, audit-log-ingestion-disabled, mailitemsaccessed-missing,
   * licence-inherited-blocks-mia, audit-bypass-enabled); for `at-risk` the hygiene findings of the
   * mailbox; empty when `recorded`.
   */
  reasons: Readonly<Record<LogonType, readonly OracleRuleId[]>>;
}

export const DAY_SECONDS = 86_400;
/** Retention of a clean mailbox (the pinned policy's minimum). */
export const CLEAN_RETENTION_DAYS = PINNED_POLICY.minimumAuditLogAgeDays;
/** Retention of a drifted mailbox: Exchange's own default. */
export const SHORT_RETENTION_DAYS = EXCHANGE_DEFAULT_AUDIT_LOG_AGE_DAYS;
/**
 * Mailbox types the pinned policy checks; others (rooms, equipment) must not be reported.
 * @deprecated kept for existing callers; the same set as PINNED_MAILBOX_TYPES.
 */
export const DEFAULT_POLICY_MAILBOX_TYPES: ReadonlySet<string> = PINNED_MAILBOX_TYPES;

export const MAX_MAILBOXES = 1_000_000;

// ---------------------------------------------------------------------------------------------
// Shared, frozen building blocks (copy-on-write: clean mailboxes all point at the same arrays).

const ALL_TYPES: readonly LogonType[] = Object.freeze([...LOGON_TYPES]);
const NO_PLANS: readonly string[] = Object.freeze([]);
const NO_LICENCES: readonly LicenceAssignment[] = Object.freeze([]);
const AUDIT_PLAN_DISABLED: readonly string[] = Object.freeze([ADVANCED_AUDITING_PLAN_ID]);
const TEAMS_DISABLED: readonly string[] = Object.freeze([TEAMS_PLAN_ID]);

export const CAPABILITIES_NONE: readonly string[] = Object.freeze([]);
export const CAPABILITIES_STANDARD: readonly string[] = Object.freeze([EXCHANGE_ENTERPRISE_CAPABILITY]);
export const CAPABILITIES_PREMIUM: readonly string[] = Object.freeze([EXCHANGE_ENTERPRISE_CAPABILITY, M365_AUDITING_CAPABILITY]);

export { GROUP_FAILURE_LISTS };

/** Unified audit log retention the oracle records for a user: by whether Graph shows the plan Enabled. */
export function ualRetentionFor(planEnabledPerGraph: boolean): number {
  return planEnabledPerGraph ? UAL_RETENTION_DAYS.premium : UAL_RETENTION_DAYS.standard;
}

/** Required actions a list lacks (pinned policy), per logon type; shared per frozen list set. */
const missingMemo = new WeakMap<AuditLists, Partial<Record<LogonType, readonly string[]>>>();
export function missingFromLists(lists: AuditLists): Readonly<Partial<Record<LogonType, readonly string[]>>> {
  let missing = missingMemo.get(lists);
  if (!missing) {
    missing = {};
    for (const type of LOGON_TYPES) {
      const absent = requiredActions(type).filter((action) => !lists[type].includes(action));
      if (absent.length > 0) missing[type] = Object.freeze(absent);
    }
    Object.freeze(missing);
    missingMemo.set(lists, missing);
  }
  return missing;
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
  auditLogAgeShort?: boolean;
  /** The logon type's list was customised without MailItemsAccessed (any licence). */
  miaRemoved?: LogonType;
  actionRemoved?: ActionChange;
  /** A valid non-default action added: customises the logon type without missing anything. */
  actionAdded?: ActionChange;
  bypass?: boolean;
  noUsageLocation?: boolean;
  /** For a disabled plan: keep a `Deleted` entry in assignedPlans (else the entry is absent). */
  deletedEntry?: boolean;
  /** E5 through the "(no Teams)" group, whose assignment disables the Teams plan. */
  noTeamsGroup?: boolean;
  /** For the group-licensing failure: reprocessLicenseAssignment clears it. */
  reprocessRepairs?: boolean;
}

/**
 * One of every kind of drift, placed at seeded positions, so that even a small tenant exercises
 * every rule. Earlier entries matter more: a tenant of N < length mailboxes gets the first N.
 */
const GUARANTEED_SPECS: readonly MailboxSpec[] = [
  { type: 'UserMailbox', licence: 'e5-direct', auditDisabled: true },
  { type: 'UserMailbox', licence: 'e5-direct', auditLogAgeShort: true },
  { type: 'UserMailbox', licence: 'e5-direct', miaRemoved: 'Owner' },
  { type: 'UserMailbox', licence: 'e5-group', actionRemoved: { logonType: 'Delegate', action: 'UpdateInboxRules' } },
  { type: 'UserMailbox', licence: 'e5-plan-disabled', deletedEntry: true },
  { type: 'UserMailbox', licence: 'e5-group-failure', reprocessRepairs: true },
  { type: 'UserMailbox', licence: 'e5-direct', bypass: true },
  { type: 'SharedMailbox', licence: 'none', auditLogAgeShort: true },
  // E3 and shared mailboxes customised without MailItemsAccessed: the default policy must report them.
  { type: 'UserMailbox', licence: 'e3-direct', miaRemoved: 'Owner' },
  { type: 'SharedMailbox', licence: 'none', miaRemoved: 'Owner' },
  // The failure through the "(no Teams)" group that reprocessing does not clear: a direct
  // assignment must keep Teams disabled.
  { type: 'UserMailbox', licence: 'e5-group-failure', noTeamsGroup: true, reprocessRepairs: false },
  { type: 'UserMailbox', licence: 'e5-direct' },
  { type: 'UserMailbox', licence: 'e5-group', noTeamsGroup: true },
  { type: 'UserMailbox', licence: 'e3-direct' },
  { type: 'SharedMailbox', licence: 'none' },
  { type: 'RoomMailbox', licence: 'none', auditLogAgeShort: true, auditDisabled: true },
  { type: 'UserMailbox', licence: 'e5-group-failure', noUsageLocation: true, reprocessRepairs: false },
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
  { type: 'UserMailbox', licence: 'e3-group', miaRemoved: 'Delegate' },
  { type: 'UserMailbox', licence: 'e5-group-failure', noTeamsGroup: true, reprocessRepairs: true },
];

/**
 * Rates of the random part of the mix. Each drift stays at a few percent so a 100,000-mailbox
 * tenant has thousands of findings of every kind and a 200-mailbox tenant still has a handful.
 */
const MIX = {
  type: { user: 0.8, shared: 0.13, room: 0.045 /* rest: equipment */ },
  licence: { e5Direct: 0.5, e5Group: 0.2, e3: 0.23, planDisabled: 0.035 /* rest: group failure */ },
  user: { auditDisabled: 0.03, auditLogAgeShort: 0.04, miaRemoved: 0.03, actionRemoved: 0.03, actionAdded: 0.02, bypass: 0.01 },
  shared: { auditDisabled: 0.02, auditLogAgeShort: 0.15, miaRemoved: 0.03, actionRemoved: 0.03, actionAdded: 0.01 },
  resource: { auditDisabled: 0.1, auditLogAgeShort: 0.5, actionRemoved: 0.1 },
  groupWithoutUsageLocation: 0.3,
  /** Share of E5 group members (failures included) licensed through the "(no Teams)" group. */
  noTeamsGroup: 0.4,
  /** Share of group-licensing failures that reprocessLicenseAssignment clears. */
  reprocessRepairs: 0.5,
} as const;

/** Accounts without a mailbox that carry a bypass association (service and admin accounts). */
const MAILBOXLESS_ACCOUNTS: readonly { name: string; kind: 'service' | 'admin' }[] = [
  { name: 'svc-backup', kind: 'service' },
  { name: 'admin-breakglass', kind: 'admin' },
  { name: 'svc-archiver', kind: 'service' },
  { name: 'svc-ediscovery', kind: 'service' },
  { name: 'admin-emergency', kind: 'admin' },
  { name: 'svc-migration', kind: 'service' },
  { name: 'svc-crm-sync', kind: 'service' },
  { name: 'svc-journaling', kind: 'service' },
  { name: 'admin-tier0', kind: 'admin' },
  { name: 'svc-monitoring', kind: 'service' },
];
/** Share of mailbox-less accounts (after the first two) with AuditBypassEnabled = True. */
const MAILBOXLESS_BYPASS_RATE = 0.3;

/** How many mailbox-less accounts a tenant of `mailboxes` has: max(2, mailboxes / 500). */
export function mailboxlessAccountCount(mailboxes: number): number {
  return Math.max(2, Math.floor(mailboxes / 500));
}

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

type LicencedClass = Exclude<LicenceClass, 'none'>;

interface Builders {
  model: LicenceModel;
  licences: Record<LicencedClass, readonly LicenceAssignment[]>;
  /** The same classes through the "(no Teams)" group (E5 group classes only). */
  noTeamsLicences: Partial<Record<LicencedClass, readonly LicenceAssignment[]>>;
}

export function generateTenant(options: GenerateTenantOptions): SimulatedTenant {
  const { seed } = options;
  const count = options.mailboxes;
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  if (!Number.isInteger(count) || count < 0 || count > MAX_MAILBOXES) {
    throw new RangeError(`mailboxes must be an integer from 0 to ${MAX_MAILBOXES}, got ${count}`);
  }
  const licenceModel: LicenceModel = options.licenceModel ?? '2026';
  if (licenceModel !== '2026' && licenceModel !== '2023') throw new RangeError(`licenceModel must be '2026' or '2023', got ${String(licenceModel)}`);

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
  // Drawn after the first two so their ids do not change with this group's arrival.
  const e5NoTeamsGroup: SimGroup = {
    id: nextGuid(tenantPrng),
    displayName: 'Licensing - Microsoft 365 E5 (no Teams)',
    licences: [{ skuId: SKU_E5.skuId, disabledPlans: TEAMS_DISABLED }],
    members: new Set(),
  };
  const firstOptIn = `${2022 + tenantPrng.nextInt(2)}-${String(1 + tenantPrng.nextInt(12)).padStart(2, '0')}-${String(1 + tenantPrng.nextInt(28)).padStart(2, '0')}T${String(tenantPrng.nextInt(24)).padStart(2, '0')}:13:46.2485587Z`;
  const freeze = (assignment: LicenceAssignment): readonly LicenceAssignment[] => Object.freeze([Object.freeze(assignment)]);
  const builders: Builders = {
    model: licenceModel,
    licences: {
      'e5-direct': freeze({ skuId: SKU_E5.skuId, disabledPlans: NO_PLANS, assignedByGroup: null }),
      'e5-group': freeze({ skuId: SKU_E5.skuId, disabledPlans: NO_PLANS, assignedByGroup: e5Group.id }),
      'e5-group-failure': freeze({ skuId: SKU_E5.skuId, disabledPlans: NO_PLANS, assignedByGroup: e5Group.id }),
      'e5-plan-disabled': freeze({ skuId: SKU_E5.skuId, disabledPlans: AUDIT_PLAN_DISABLED, assignedByGroup: null }),
      'e3-direct': freeze({ skuId: SKU_E3.skuId, disabledPlans: NO_PLANS, assignedByGroup: null }),
      'e3-group': freeze({ skuId: SKU_E3.skuId, disabledPlans: NO_PLANS, assignedByGroup: e3Group.id }),
    },
    noTeamsLicences: {
      'e5-group': freeze({ skuId: SKU_E5.skuId, disabledPlans: TEAMS_DISABLED, assignedByGroup: e5NoTeamsGroup.id }),
      'e5-group-failure': freeze({ skuId: SKU_E5.skuId, disabledPlans: TEAMS_DISABLED, assignedByGroup: e5NoTeamsGroup.id }),
    },
  };
  const groups = [e5Group, e5NoTeamsGroup, e3Group];
  const groupById = new Map(groups.map((group) => [group.id, group]));

  const organization: SimOrganization = {
    identity: domain,
    guid: orgGuid,
    displayName: `Contoso ${seed}`,
    auditDisabled: options.orgAuditDisabled === true,
    auditDisabledDrift: options.orgAuditDisabled === true,
    unifiedAuditLogIngestionEnabled: options.ingestionDisabled !== true,
    ingestionDisabledDrift: options.ingestionDisabled === true,
    unifiedAuditLogFirstOptInDate: firstOptIn,
  };

  const placement = placeGuaranteedSpecs(count, streamFor(seed, 'placement'));
  const mixPrng = streamFor(seed, 'mix');
  const idPrng = streamFor(seed, 'ids');
  const namePrng = streamFor(seed, 'names');
  const nameCounts = new Map<string, number>();

  // Accounts without a mailbox come first in Get-MailboxAuditBypassAssociation (created with the tenant).
  const mailboxless = buildMailboxlessAssociations(mailboxlessAccountCount(count), domain, streamFor(seed, 'mailboxless-accounts'));
  const offset = mailboxless.length;

  const users: SimUser[] = new Array<SimUser>(count);
  const mailboxes: SimMailbox[] = new Array<SimMailbox>(count);
  const associations: SimBypassAssociation[] = new Array<SimBypassAssociation>(offset + count);
  for (let i = 0; i < offset; i++) associations[i] = mailboxless[i] as SimBypassAssociation;
  const typeCounts = { UserMailbox: 0, SharedMailbox: 0, RoomMailbox: 0, EquipmentMailbox: 0 };
  const consumed = new Map<string, number>([[SKU_E5.skuId, 0], [SKU_E3.skuId, 0]]);

  for (let index = 0; index < count; index++) {
    const spec = placement.get(index) ?? randomSpec(mixPrng);
    const names = nameFor(spec.type, namePrng, nameCounts, index);
    const user = buildUser(index, spec, names, domain, idPrng, mixPrng, builders);
    const mailbox = buildMailbox(index, offset + index, spec, user, names, domain, idPrng, builders.model);
    users[index] = user;
    mailboxes[index] = mailbox;
    associations[offset + index] = mailbox.association;
    for (const licence of user.licences) if (licence.assignedByGroup !== null) groupById.get(licence.assignedByGroup)?.members.add(index);
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
    licenceModel,
    organization,
    skuUnits,
    groups,
    users,
    mailboxes,
    associations,
    mailboxlessAssociations: Object.freeze(mailboxless),
    auditLogAgeLimitFormat: options.auditLogAgeLimitFormat ?? 'timespan',
    licensedSince,
    indicesByType,
    version: 0,
    lookups: new TenantLookups(),
  };
  tenant.lookups.attach(tenant);
  return tenant;
}

function buildMailboxlessAssociations(count: number, domain: string, prng: Prng): SimBypassAssociation[] {
  const associations: SimBypassAssociation[] = [];
  for (let i = 0; i < count; i++) {
    const base = MAILBOXLESS_ACCOUNTS[i % MAILBOXLESS_ACCOUNTS.length] as (typeof MAILBOXLESS_ACCOUNTS)[number];
    const round = Math.floor(i / MAILBOXLESS_ACCOUNTS.length);
    const name = round === 0 ? base.name : `${base.name}${round + 1}`;
    // The first always bypasses and the second never does, so every tenant has both; then seeded.
    const bypass = i === 0 ? true : i === 1 ? false : prng.chance(MAILBOXLESS_BYPASS_RATE);
    associations.push({
      index: i,
      guid: nextGuid(prng),
      identity: name,
      mailbox: null,
      accountKind: base.kind,
      accountUpn: `${name}@${domain}`,
      auditBypassEnabled: bypass,
      bypassDrift: bypass,
    });
  }
  return associations;
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

/** Default actions other than the ones Audit (Standard) lacked before 2024 (so never MailItemsAccessed). */
const removableActions = (type: LogonType): readonly string[] => MANAGED_LISTS_STANDARD_2023[type];
const addableActions = (type: LogonType): readonly string[] =>
  VALID_ACTIONS[type].filter((action) => !MANAGED_DEFAULTS[type].includes(action) && !PREMIUM_ONLY_2023.has(action));

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
    if (prng.chance(rates.auditLogAgeShort)) spec.auditLogAgeShort = true;
    // Any licence's list can be customised without MailItemsAccessed (the failure already lacks it).
    if (prng.chance(rates.miaRemoved) && licence !== 'e5-group-failure') spec.miaRemoved = prng.pick(LOGON_TYPES);
    if (prng.chance(rates.actionRemoved)) spec.actionRemoved = randomAction(prng, prng.pick(LOGON_TYPES), removableActions);
    if (prng.chance(rates.actionAdded)) spec.actionAdded = randomAction(prng, prng.pick(LOGON_TYPES), addableActions);
    if (prng.chance(rates.bypass)) spec.bypass = true;
    if (licence === 'e5-plan-disabled') spec.deletedEntry = prng.chance(0.5);
    if ((licence === 'e5-group' || licence === 'e5-group-failure' || licence === 'e3-group') && prng.chance(MIX.groupWithoutUsageLocation)) {
      spec.noUsageLocation = true;
    }
    if ((licence === 'e5-group' || licence === 'e5-group-failure') && prng.chance(MIX.noTeamsGroup)) spec.noTeamsGroup = true;
    if (licence === 'e5-group-failure') spec.reprocessRepairs = prng.chance(MIX.reprocessRepairs);
    return spec;
  }
  const spec: MailboxSpec = { type, licence: 'none' };
  if (type === 'SharedMailbox') {
    const rates = MIX.shared;
    if (prng.chance(rates.auditDisabled)) spec.auditDisabled = true;
    if (prng.chance(rates.auditLogAgeShort)) spec.auditLogAgeShort = true;
    if (prng.chance(rates.miaRemoved)) spec.miaRemoved = prng.pick(LOGON_TYPES);
    if (prng.chance(rates.actionRemoved)) spec.actionRemoved = randomAction(prng, prng.pick(LOGON_TYPES), removableActions);
    if (prng.chance(rates.actionAdded)) spec.actionAdded = randomAction(prng, prng.pick(LOGON_TYPES), addableActions);
    return spec;
  }
  const rates = MIX.resource;
  if (prng.chance(rates.auditDisabled)) spec.auditDisabled = true;
  if (prng.chance(rates.auditLogAgeShort)) spec.auditLogAgeShort = true;
  if (prng.chance(rates.actionRemoved)) spec.actionRemoved = randomAction(prng, prng.pick(LOGON_TYPES), removableActions);
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
  const licences =
    spec.licence === 'none' ? NO_LICENCES : (spec.noTeamsGroup ? builders.noTeamsLicences[spec.licence] : undefined) ?? builders.licences[spec.licence];
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
    licences,
    auditPlanDeletedEntry: spec.licence === 'e5-plan-disabled' && spec.deletedEntry === true,
    groupProvisioningFailed: spec.licence === 'e5-group-failure',
    reprocessRepairs: spec.licence === 'e5-group-failure' && spec.reprocessRepairs === true,
  };
}

/** Frozen drift records shared by clean mailboxes whose managed lists lack required actions (the '2023' model). */
const baseDriftMemo = new WeakMap<AuditLists, MailboxDrift | null>();
function baseDrift(lists: AuditLists): MailboxDrift | null {
  let drift = baseDriftMemo.get(lists);
  if (drift === undefined) {
    drift = normaliseDrift({ ...CLEAN_DRIFT, missingActions: missingFromLists(lists) });
    if (drift) Object.freeze(drift);
    baseDriftMemo.set(lists, drift);
  }
  return drift;
}

function buildMailbox(
  index: number,
  associationIndex: number,
  spec: MailboxSpec,
  user: SimUser,
  names: Names,
  domain: string,
  idPrng: Prng,
  model: LicenceModel,
): SimMailbox {
  const premiumCapable = spec.licence === 'e5-direct' || spec.licence === 'e5-group';
  const groupFailure = spec.licence === 'e5-group-failure';
  // What Graph says: the plan shows Enabled for these, so the UAL keeps their records a year.
  const planEnabledPerGraph = premiumCapable || groupFailure;
  const capabilities = spec.licence === 'none' ? CAPABILITIES_NONE : premiumCapable ? CAPABILITIES_PREMIUM : CAPABILITIES_STANDARD;

  const managed = managedLists(model, premiumCapable, groupFailure);
  let audit: AuditLists = managed;
  let defaultAuditSet = ALL_TYPES;
  // Most mailboxes are clean: they share every array and a (usually null) drift record.
  let drift: MailboxDrift | null = baseDrift(managed);
  if (spec.licence === 'e5-plan-disabled' || groupFailure || spec.auditDisabled || spec.auditLogAgeShort || spec.miaRemoved || spec.actionRemoved || spec.actionAdded) {
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

    // The record: what the managed lists lack (a fact of the licence model) plus what was injected.
    const missing: Partial<Record<LogonType, string[]>> = {};
    const base = missingFromLists(managed);
    const addMissing = (logonType: LogonType, action: string): void => {
      const list = (missing[logonType] ??= []);
      if (!list.includes(action)) list.push(action);
    };
    for (const type of LOGON_TYPES) for (const action of base[type] ?? []) addMissing(type, action);
    if (spec.miaRemoved) addMissing(spec.miaRemoved, MAIL_ITEMS_ACCESSED);
    if (spec.actionRemoved) addMissing(spec.actionRemoved.logonType, spec.actionRemoved.action);
    drift = normaliseDrift({
      auditDisabled: spec.auditDisabled === true,
      auditLogAgeShort: spec.auditLogAgeShort === true,
      missingActions: missing,
      customised: LOGON_TYPES.filter((type) => customised.has(type)),
      planDisabled: spec.licence === 'e5-plan-disabled',
      groupFailure,
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
    auditLogAgeLimitSeconds: (spec.auditLogAgeShort ? SHORT_RETENTION_DAYS : CLEAN_RETENTION_DAYS) * DAY_SECONDS,
    audit,
    defaultAuditSet,
    persistedCapabilities: capabilities,
    ualRetentionDays: ualRetentionFor(planEnabledPerGraph),
    drift,
    // Set right below: the association and the mailbox point at each other.
    association: undefined as unknown as SimBypassAssociation,
  };
  mailbox.association = {
    index: associationIndex,
    guid: nextGuid(idPrng),
    identity: names.alias,
    mailbox,
    accountKind: 'mailbox',
    accountUpn: null,
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
  if (!drift.auditDisabled && !drift.auditLogAgeShort && !anyMissing && drift.customised.length === 0 && !drift.planDisabled && !drift.groupFailure) {
    return null;
  }
  return drift;
}

export const CLEAN_DRIFT: MailboxDrift = Object.freeze({
  auditDisabled: false,
  auditLogAgeShort: false,
  missingActions: Object.freeze({}),
  customised: Object.freeze([]),
  planDisabled: false,
  groupFailure: false,
});

/**
 * Whether reprocessLicenseAssignment would clear a group-licensing failure given to this user
 * later (by injectDrift): a seeded coin per user id, the same half-and-half as the generator's.
 */
export function defaultReprocessRepairs(seed: number, userId: string): boolean {
  return (deriveSeed(seed, `reprocess:${userId}`) & 1) === 1;
}

// ---------------------------------------------------------------------------------------------
// Ground truth

const MIN_AUDIT_LOG_AGE_SECONDS = PINNED_POLICY.minimumAuditLogAgeDays * DAY_SECONDS;
const MIN_UAL_RETENTION_DAYS = PINNED_POLICY.minimumUnifiedAuditLogRetentionDays;

/** Whether AuditLogAgeLimit (seconds) is below the pinned policy's minimum. */
export function auditLogAgeIsShort(seconds: number): boolean {
  return seconds < MIN_AUDIT_LOG_AGE_SECONDS;
}

/**
 * The findings a correct scanner reports under the pinned policy (pinned-policy.ts), read only
 * from the oracle's records (never by evaluating rules over the Graph/Exchange state). Sorted by
 * rule, object and logon type so two runs compare with a plain deep-equal.
 */
export function groundTruth(tenant: SimulatedTenant): ExpectedFinding[] {
  const findings: ExpectedFinding[] = [];
  const organization = tenant.organization;
  if (organization.auditDisabledDrift) findings.push({ ruleId: 'org-audit-disabled', objectId: organization.identity });
  if (organization.ingestionDisabledDrift) findings.push({ ruleId: 'audit-log-ingestion-disabled', objectId: organization.identity });
  for (const mailbox of tenant.mailboxes) {
    if (!PINNED_MAILBOX_TYPES.has(mailbox.recipientTypeDetails)) continue;
    const objectId = mailbox.user.id;
    if (mailbox.ualRetentionDays < MIN_UAL_RETENTION_DAYS) findings.push({ ruleId: 'audit-retention-too-short', objectId });
    const drift = mailbox.drift;
    if (!drift) continue;
    if (drift.auditDisabled) findings.push({ ruleId: 'mailbox-audit-disabled', objectId });
    if (drift.auditLogAgeShort) findings.push({ ruleId: 'mailbox-audit-log-age-short', objectId });
    for (const logonType of LOGON_TYPES) {
      const missing = drift.missingActions[logonType];
      if (!missing) continue;
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
export function groundTruthCounts(tenant: SimulatedTenant): Partial<Record<OracleRuleId, number>> {
  const counts: Partial<Record<OracleRuleId, number>> = {};
  for (const finding of groundTruth(tenant)) counts[finding.ruleId] = (counts[finding.ruleId] ?? 0) + 1;
  return counts;
}

const VERDICT_RANK: Record<CoverageVerdict, number> = { recorded: 0, 'at-risk': 1, 'not-recorded': 2 };

/** Reasons in a fixed order; each combination's frozen array is built once (bit i = COVERAGE_REASONS[i]). */
const COVERAGE_REASONS: readonly OracleRuleId[] = [
  'org-audit-disabled',
  'audit-log-ingestion-disabled',
  'mailitemsaccessed-missing',
  'licence-inherited-blocks-mia',
  'audit-bypass-enabled',
  'audit-retention-too-short',
  'advanced-auditing-plan-missing',
  'audit-actions-missing',
  'default-audit-set-customised',
  'mailbox-audit-disabled',
  'mailbox-audit-log-age-short',
];
const bit = (rule: OracleRuleId): number => 1 << COVERAGE_REASONS.indexOf(rule);
const NOT_RECORDED_MASK = bit('org-audit-disabled') | bit('audit-log-ingestion-disabled') | bit('mailitemsaccessed-missing') | bit('licence-inherited-blocks-mia') | bit('audit-bypass-enabled');
const reasonsMemo = new Map<number, readonly OracleRuleId[]>();
function reasonList(mask: number): readonly OracleRuleId[] {
  let list = reasonsMemo.get(mask);
  if (!list) {
    list = Object.freeze(COVERAGE_REASONS.filter((_rule, i) => (mask & (1 << i)) !== 0));
    reasonsMemo.set(mask, list);
  }
  return list;
}
function verdictOf(mask: number): CoverageVerdict {
  return (mask & NOT_RECORDED_MASK) !== 0 ? 'not-recorded' : mask !== 0 ? 'at-risk' : 'recorded';
}
const reasonsByMasks = new Map<string, Readonly<Record<LogonType, readonly OracleRuleId[]>>>();

/**
 * The coverage verdict a correct scanner gives every in-scope mailbox, per logon type, computed
 * from the oracle's own records (the same ones groundTruth reads):
 * - `not-recorded` when org auditing is off, ingestion is off, MailItemsAccessed is missing for
 *   that logon type, the mailbox has the group-licensing failure, or (Owner only) the mailbox's own
 *   account bypasses auditing;
 * - else `at-risk` when the mailbox has a hygiene finding: for every logon type
 *   audit-retention-too-short, advanced-auditing-plan-missing, mailbox-audit-disabled,
 *   mailbox-audit-log-age-short; for that logon type only audit-actions-missing and
 *   default-audit-set-customised (they are findings about one logon type's list);
 * - else `recorded`. `overall` is the worst of the three. Sorted by objectId. The reason arrays
 *   are frozen and shared between mailboxes.
 */
export function groundTruthCoverage(tenant: SimulatedTenant): ExpectedCoverage[] {
  const organization = tenant.organization;
  let tenantMask = 0;
  if (organization.auditDisabledDrift) tenantMask |= bit('org-audit-disabled');
  if (organization.ingestionDisabledDrift) tenantMask |= bit('audit-log-ingestion-disabled');
  const miaBit = bit('mailitemsaccessed-missing');
  const failureBit = bit('licence-inherited-blocks-mia');
  const bypassBit = bit('audit-bypass-enabled');
  const coverage: ExpectedCoverage[] = [];
  for (const mailbox of tenant.mailboxes) {
    if (!PINNED_MAILBOX_TYPES.has(mailbox.recipientTypeDetails)) continue;
    const drift = mailbox.drift;
    let hygiene = 0;
    if (mailbox.ualRetentionDays < MIN_UAL_RETENTION_DAYS) hygiene |= bit('audit-retention-too-short');
    let common = tenantMask;
    const perType = [0, 0, 0];
    const perTypeHygiene = [0, 0, 0];
    if (drift) {
      if (drift.planDisabled) hygiene |= bit('advanced-auditing-plan-missing');
      LOGON_TYPES.forEach((type, i) => {
        if (drift.missingActions[type]?.some((action) => action !== MAIL_ITEMS_ACCESSED)) perTypeHygiene[i] = (perTypeHygiene[i] as number) | bit('audit-actions-missing');
        if (drift.customised.includes(type)) perTypeHygiene[i] = (perTypeHygiene[i] as number) | bit('default-audit-set-customised');
      });
      if (drift.auditDisabled) hygiene |= bit('mailbox-audit-disabled');
      if (drift.auditLogAgeShort) hygiene |= bit('mailbox-audit-log-age-short');
      if (drift.groupFailure) common |= failureBit;
      LOGON_TYPES.forEach((type, i) => {
        if (drift.missingActions[type]?.includes(MAIL_ITEMS_ACCESSED)) perType[i] = (perType[i] as number) | miaBit;
      });
    }
    if (mailbox.association.bypassDrift) perType[0] = (perType[0] as number) | bypassBit;
    // Per logon type: the not-recorded reasons if any, else the hygiene findings.
    const masks = perType.map((own, i) => {
      const notRecorded = common | own;
      return notRecorded !== 0 ? notRecorded : hygiene | (perTypeHygiene[i] as number);
    }) as [number, number, number];
    const key = `${masks[0]},${masks[1]},${masks[2]}`;
    let reasons = reasonsByMasks.get(key);
    if (!reasons) {
      reasons = Object.freeze({ Owner: reasonList(masks[0]), Delegate: reasonList(masks[1]), Admin: reasonList(masks[2]) });
      reasonsByMasks.set(key, reasons);
    }
    const [owner, delegate, admin] = [verdictOf(masks[0]), verdictOf(masks[1]), verdictOf(masks[2])];
    let overall = owner;
    if (VERDICT_RANK[delegate] > VERDICT_RANK[overall]) overall = delegate;
    if (VERDICT_RANK[admin] > VERDICT_RANK[overall]) overall = admin;
    coverage.push({ objectId: mailbox.user.id, Owner: owner, Delegate: delegate, Admin: admin, overall, reasons });
  }
  return coverage.sort((a, b) => compareText(a.objectId, b.objectId));
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
  private byAccountName: Map<string, number> | undefined;

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

  /**
   * MailboxAuditBypassAssociationIdParameter: the association Guid, the name or UPN of an account
   * without a mailbox, or any identity of a mailbox's account.
   */
  association(identity: string): SimBypassAssociation | undefined {
    const tenant = this.tenant;
    if (!tenant) return undefined;
    const wanted = identity.trim().toLowerCase();
    if (!this.byAssociationGuid) {
      this.byAssociationGuid = new Map();
      for (const association of tenant.associations) this.byAssociationGuid.set(association.guid, association.index);
    }
    let index = this.byAssociationGuid.get(wanted);
    if (index === undefined) {
      if (!this.byAccountName) {
        this.byAccountName = new Map();
        for (const association of tenant.mailboxlessAssociations) {
          this.byAccountName.set(association.identity.toLowerCase(), association.index);
          if (association.accountUpn) this.byAccountName.set(association.accountUpn.toLowerCase(), association.index);
        }
      }
      index = this.byAccountName.get(wanted);
    }
    if (index !== undefined) return tenant.associations[index];
    return this.mailbox(identity)?.association;
  }
}
