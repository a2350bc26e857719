/**
 * Fixed facts of the simulated Microsoft cloud: SKUs and their service plans, Exchange's audit
 * action tables, mailbox capability names. Ids are Microsoft's real ones where they matter to the
 * production code (the Advanced Auditing plan, the E3/E5 SKUs), so a client never needs to know it
 * is talking to a simulator.
 */
import auditActions from '../shared/rules/audit-actions.json';
import { ADVANCED_AUDITING_PLAN_ID, LOGON_TYPES, MAIL_ITEMS_ACCESSED, type LogonType } from '../shared/domain/audit';

export { ADVANCED_AUDITING_PLAN_ID, LOGON_TYPES, MAIL_ITEMS_ACCESSED, type LogonType };

/** Exchange's PersistedCapabilities value for the Advanced Auditing plan (REFERENCE.md §8). */
export const M365_AUDITING_CAPABILITY = 'M365Auditing';
/** The Exchange Online (Plan 2) capability every E3/E5 mailbox carries. */
export const EXCHANGE_ENTERPRISE_CAPABILITY = 'BPOS_S_Enterprise';

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

/** Actions each logon type accepts, Microsoft's managed default set, and the premium-only actions. */
export const VALID_ACTIONS: Readonly<Record<LogonType, readonly string[]>> = auditActions.valid;
export const DEFAULT_ACTIONS: Readonly<Record<LogonType, readonly string[]>> = auditActions.default;
export const PREMIUM_ONLY: ReadonlySet<string> = new Set(auditActions.premiumOnly);

/**
 * Every name Set-Mailbox binds as a MailboxAuditOperations value. Names outside this set fail
 * parameter binding; names inside it but not valid for the logon type fail validation instead,
 * as Exchange distinguishes the two. The folder-permission trio is accepted and logged as
 * UpdateFolderPermissions (REFERENCE.md §2.3).
 */
export const AUDIT_OPERATION_NAMES: readonly string[] = [
  'None',
  ...new Set([...LOGON_TYPES.flatMap((type) => VALID_ACTIONS[type]), 'AddFolderPermissions', 'ModifyFolderPermissions', 'RemoveFolderPermissions']),
];
const OPERATION_BY_LOWER = new Map(AUDIT_OPERATION_NAMES.map((name) => [name.toLowerCase(), name]));

/** The spelling Exchange returns for an audit action, or undefined for an unknown name. */
export function canonicalAuditOperation(name: string): string | undefined {
  return OPERATION_BY_LOWER.get(name.trim().toLowerCase());
}

const FOLDER_PERMISSION_ALIASES = new Set(['AddFolderPermissions', 'ModifyFolderPermissions', 'RemoveFolderPermissions']);

/** What Exchange stores for an accepted action name (the folder-permission trio collapses). */
export function storedAuditOperation(name: string): string {
  return FOLDER_PERMISSION_ALIASES.has(name) ? 'UpdateFolderPermissions' : name;
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
export const MANAGED_LISTS_PREMIUM = freezeLists((type) => [...DEFAULT_ACTIONS[type]]);
export const MANAGED_LISTS_STANDARD = freezeLists((type) => DEFAULT_ACTIONS[type].filter((action) => !PREMIUM_ONLY.has(action)));

export function managedLists(hasAuditingCapability: boolean): Readonly<Record<LogonType, readonly string[]>> {
  return hasAuditingCapability ? MANAGED_LISTS_PREMIUM : MANAGED_LISTS_STANDARD;
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
