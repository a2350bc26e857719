/**
 * Fixed facts of the simulated Microsoft cloud: SKUs and their service plans, Exchange's audit
 * action tables, mailbox capability names. Ids are Microsoft's real ones where they matter to the
 * production code (the Advanced Auditing plan, the E3/E5 SKUs), so a client never needs to know it
 * is talking to a simulator. The audit facts come from the simulator's own copy
 * (microsoft-facts.ts), never from the product.
 */
import {
  ADVANCED_AUDITING_PLAN_ID,
  EXCHANGE_ENTERPRISE_CAPABILITY,
  FOLDER_PERMISSION_ALIASES,
  LOGON_TYPES,
  M365_AUDITING_CAPABILITY,
  MAIL_ITEMS_ACCESSED,
  MANAGED_DEFAULTS,
  MESSAGE_BIND,
  PREMIUM_ONLY_2023,
  VALID_ACTIONS,
  type LicenceModel,
  type LogonType,
} from './microsoft-facts';

export {
  ADVANCED_AUDITING_PLAN_ID,
  EXCHANGE_ENTERPRISE_CAPABILITY,
  LOGON_TYPES,
  M365_AUDITING_CAPABILITY,
  MAIL_ITEMS_ACCESSED,
  VALID_ACTIONS,
  type LicenceModel,
  type LogonType,
};

export interface ServicePlan {
  servicePlanId: string;
  servicePlanName: string;
  /** The `service` value Graph shows in assignedPlans. */
  service: string;
}

export interface SkuDefinition {
  skuId: string;
  skuPartNumber: string;
  servicePlans: readonly ServicePlan[];
}

const PLANS = {
  exchange: { servicePlanId: 'efb87545-963c-4e0d-99df-69c6916d9eb0', servicePlanName: 'EXCHANGE_S_ENTERPRISE', service: 'exchange' },
  audit: { servicePlanId: ADVANCED_AUDITING_PLAN_ID, servicePlanName: 'M365_ADVANCED_AUDITING', service: 'M365AdvancedAuditing' },
  sharepoint: { servicePlanId: '5dbe027f-2339-4123-9542-606e4d348a72', servicePlanName: 'SHAREPOINTENTERPRISE', service: 'SharePoint' },
  teams: { servicePlanId: '57ff2da0-773e-42df-b2af-ffb7a2317929', servicePlanName: 'TEAMS1', service: 'TeamspaceAPI' },
  office: { servicePlanId: '43de0ff5-c92c-492b-9116-175376d08c38', servicePlanName: 'OFFICESUBSCRIPTION', service: 'MicrosoftOffice' },
  skype: { servicePlanId: '0feaeb32-d00e-4d66-bd5a-43b5b83db82c', servicePlanName: 'MCOSTANDARD', service: 'MicrosoftCommunicationsOnline' },
  threatIntelligence: { servicePlanId: '8e0c0a52-6a6c-4d40-8370-dd62790dcd70', servicePlanName: 'THREAT_INTELLIGENCE', service: 'exchange' },
} as const satisfies Record<string, ServicePlan>;

/** Microsoft 365 E5: includes M365_ADVANCED_AUDITING. */
export const SKU_E5: SkuDefinition = {
  skuId: '06ebc4ee-1bb5-47dd-8120-11324bc54e06',
  skuPartNumber: 'SPE_E5',
  servicePlans: [PLANS.exchange, PLANS.audit, PLANS.sharepoint, PLANS.teams, PLANS.office, PLANS.skype, PLANS.threatIntelligence],
};

/** Microsoft 365 E3: no Advanced Auditing plan. */
export const SKU_E3: SkuDefinition = {
  skuId: '05e9a617-0261-4cee-bb44-138d3ef5d965',
  skuPartNumber: 'SPE_E3',
  servicePlans: [PLANS.exchange, PLANS.sharepoint, PLANS.teams, PLANS.office, PLANS.skype],
};

export const SKUS: readonly SkuDefinition[] = [SKU_E5, SKU_E3];

export function skuById(skuId: string): SkuDefinition | undefined {
  const wanted = skuId.toLowerCase();
  return SKUS.find((sku) => sku.skuId === wanted);
}

export function skuHasAuditPlan(sku: SkuDefinition): boolean {
  return sku.servicePlans.some((plan) => plan.servicePlanId === ADVANCED_AUDITING_PLAN_ID);
}

/** The Teams plan: what the "no Teams" licensing group disables. */
export const TEAMS_PLAN_ID = PLANS.teams.servicePlanId;

/**
 * Every name Set-Mailbox binds as a MailboxAuditOperations value. Names outside this set fail
 * parameter binding; names inside it but not valid for the logon type fail validation instead,
 * as Exchange distinguishes the two. The folder-permission trio is accepted and logged as
 * UpdateFolderPermissions; MessageBind binds but Exchange Online rejects it as deprecated.
 */
export const AUDIT_OPERATION_NAMES: readonly string[] = [
  'None',
  ...new Set([...LOGON_TYPES.flatMap((type) => VALID_ACTIONS[type]), ...FOLDER_PERMISSION_ALIASES, MESSAGE_BIND]),
];
const OPERATION_BY_LOWER = new Map(AUDIT_OPERATION_NAMES.map((name) => [name.toLowerCase(), name]));

/** The spelling Exchange returns for an audit action, or undefined for an unknown name. */
export function canonicalAuditOperation(name: string): string | undefined {
  return OPERATION_BY_LOWER.get(name.trim().toLowerCase());
}

const FOLDER_ALIASES = new Set(FOLDER_PERMISSION_ALIASES);

/** What Exchange stores for an accepted action name (the folder-permission trio collapses). */
export function storedAuditOperation(name: string): string {
  return FOLDER_ALIASES.has(name) ? 'UpdateFolderPermissions' : name;
}

function freezeLists(build: (type: LogonType) => string[]): Readonly<Record<LogonType, readonly string[]>> {
  const lists = {} as Record<LogonType, readonly string[]>;
  for (const type of LOGON_TYPES) lists[type] = Object.freeze(build(type));
  return Object.freeze(lists);
}

/**
 * The lists Exchange manages for a logon type in DefaultAuditSet. Shared by every clean mailbox of
 * the same kind (copy-on-write), which keeps 100,000 mailboxes cheap.
 */
export const MANAGED_LISTS_PREMIUM = freezeLists((type) => [...MANAGED_DEFAULTS[type]]);
/** The '2023' model's lists for a mailbox without M365Auditing: no MailItemsAccessed, Send or SearchQueryInitiated. */
export const MANAGED_LISTS_STANDARD_2023 = freezeLists((type) => MANAGED_DEFAULTS[type].filter((action) => !PREMIUM_ONLY_2023.has(action)));
/** The group-licensing failure's lists (both models): MailItemsAccessed missing from all three, nothing else. */
export const GROUP_FAILURE_LISTS = freezeLists((type) => MANAGED_DEFAULTS[type].filter((action) => action !== MAIL_ITEMS_ACCESSED));

/**
 * Microsoft's managed lists for a mailbox: premium with the M365Auditing capability; the failure's
 * lists while the group-licensing failure lasts; otherwise per licence model ('2026': the same as
 * premium, Audit (Standard) got MailItemsAccessed and Send in 2024; '2023': without them).
 */
export function managedLists(model: LicenceModel, hasAuditingCapability: boolean, groupFailure: boolean): Readonly<Record<LogonType, readonly string[]>> {
  if (hasAuditingCapability) return MANAGED_LISTS_PREMIUM;
  if (groupFailure) return GROUP_FAILURE_LISTS;
  return model === '2023' ? MANAGED_LISTS_STANDARD_2023 : MANAGED_LISTS_PREMIUM;
}

/** The mailbox types Exchange returns for -RecipientTypeDetails; others fail binding. */
export const RECIPIENT_TYPE_DETAILS: readonly string[] = [
  'DiscoveryMailbox',
  'EquipmentMailbox',
  'GroupMailbox',
  'LegacyMailbox',
  'LinkedMailbox',
  'LinkedRoomMailbox',
  'RoomMailbox',
  'SchedulingMailbox',
  'SharedMailbox',
  'TeamMailbox',
  'UserMailbox',
];

export const ALL_LOGON_TYPES: readonly LogonType[] = Object.freeze([...LOGON_TYPES]);
