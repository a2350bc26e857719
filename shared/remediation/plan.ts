import { createHash } from 'node:crypto';
import type { AuditPolicy } from '../config/policy';
import { ADVANCED_AUDITING_PLAN_ID, LOGON_TYPES, MAIL_ITEMS_ACCESSED, type LogonType } from '../domain/audit';
import { findingKey, RULE_IDS, type ChangeKind, type Finding, type ObjectType, type RuleId } from '../domain/finding';
import type { SubscribedSku } from '../graph';
import { compilePolicy } from '../rules/compiled-policy';
import { RULE_METADATA } from '../rules/pack';
import { directAssignmentFor, type LicenceUser } from './licence';

/**
 * The remediation planner: finding → the exact change that fixes it (DESIGN.md's rules table).
 * Pure: no I/O, no clock. The change is data (what the worker sends), the description is what a
 * person reads before approving (PowerShell as an admin would type it).
 *
 * Every change only ever moves a setting towards "audited": AuditEnabled $true, actions added with
 * @{Add=…} (never a replacement list, so an action someone added on purpose stays), a retention
 * that is never 0 (00:00:00 purges every record), bypass off, org auditing on, unified audit log
 * ingestion on, a user's group licences re-run, a licence added that enables nothing the user's
 * group leaves off except Advanced Auditing.
 * The queue message schema (shared/queue/messages.ts) enforces the same literals, so a forged or
 * corrupted message cannot turn auditing off either.
 */

/** Set-Mailbox with only audit parameters; every field optional but at least one present. */
export interface SetMailboxChange {
  kind: 'set-mailbox';
  /** Entra object id (ExternalDirectoryObjectId), which Exchange Online accepts as -Identity. */
  identity: string;
  auditEnabled?: true;
  auditLogAgeLimitDays?: number;
  /** Sent as @{Add=…} typed #Exchange.GenericHashTable: existing actions are kept. */
  addActions?: Partial<Record<LogonType, string[]>>;
  /**
   * Logon types to give back to Microsoft's managed set. The worker sends them together with the
   * logon types already in DefaultAuditSet when it applies the change (Set-Mailbox's parameter names
   * every logon type that should be managed), so restoring one never un-manages another.
   */
  defaultAuditSet?: LogonType[];
}

export interface SetBypassAssociationChange {
  kind: 'set-bypass-association';
  /** The association's Guid. */
  identity: string;
  auditBypassEnabled: false;
}

export interface SetOrganizationConfigChange {
  kind: 'set-organization-config';
  auditDisabled: false;
}

/** Set-AdminAuditLogConfig: the unified audit log's tenant-wide switch, only ever turned on. */
export interface SetAdminAuditLogConfigChange {
  kind: 'set-admin-audit-log-config';
  unifiedAuditLogIngestionEnabled: true;
}

/**
 * Step 1 of the group-licensing fix: Graph `reprocessLicenseAssignment`, which re-runs the user's
 * group-based assignments. It changes no plan and takes no seat, so the policy may run it
 * automatically (policy.licenceReprocessMode).
 */
export interface ReprocessLicenceChange {
  kind: 'reprocess-licence';
  userId: string;
}

/**
 * Step 2, only when Exchange still refuses after a reprocess and a later scan: Graph
 * `assignLicense` of the SKU that reaches the user through a group, assigned directly with every
 * plan the group disables kept disabled (remediation/licence.ts says why). Always approved by a
 * person, and re-checked against the user's licences when it is applied: if the body would differ
 * from the approved one, nothing is sent.
 */
export interface AssignLicenceChange {
  kind: 'assign-licence';
  userId: string;
  skuId: string;
  /** The SKU's name (e.g. SPE_E5), for the person approving. */
  skuPartNumber: string;
  /** What the user's group assignments of the SKU left disabled when the change was planned. */
  groupDisabledPlans: string[];
  /** The body's disabledPlans: groupDisabledPlans without Advanced Auditing. */
  disabledPlans: string[];
  /** servicePlanName of the disabled plans, where the tenant's catalogue names them. */
  planNames: Record<string, string>;
}

export type RemediationChange =
  | SetMailboxChange
  | SetBypassAssociationChange
  | SetOrganizationConfigChange
  | SetAdminAuditLogConfigChange
  | ReprocessLicenceChange
  | AssignLicenceChange;

// RemediationChange's kinds are exactly the domain's CHANGE_KINDS: adding one to either alone fails to compile.
type SameKinds<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const CHANGE_KINDS_MATCH: SameKinds<RemediationChange['kind'], ChangeKind> = true;
void CHANGE_KINDS_MATCH;

/** One finding's fix, as queued, approved and applied. */
export interface RemediationPlan {
  findingKey: string;
  /** The finding's episode: the same drift coming back later is a new remediation, not a duplicate. */
  episode: number;
  ruleId: RuleId;
  objectType: ObjectType;
  objectId: string;
  userPrincipalName: string;
  logonType?: LogonType;
  change: RemediationChange;
  /** The exact call, e.g. `Set-Mailbox -Identity '…' -AuditOwner @{Add='MailItemsAccessed'}`. */
  description: string;
  /** hash(finding key + episode + change): a message delivered twice changes and records once. */
  idempotencyKey: string;
}

/** A finding the planner will not turn into a change, and why (with the manual fix). */
export interface RemediationAdvice {
  findingKey: string;
  ruleId: RuleId;
  objectId: string;
  userPrincipalName: string;
  logonType?: LogonType;
  reason: string;
}

export type PlanOutcome = { kind: 'plan'; plan: RemediationPlan } | { kind: 'advice'; advice: RemediationAdvice };

/** What the planner needs of a finding: the domain finding plus the episode the store keeps. */
export type PlannableFinding = Pick<
  Finding,
  'ruleId' | 'objectType' | 'objectId' | 'userPrincipalName' | 'logonType' | 'expected' | 'actual' | 'error'
> & { episode?: number };

/** Rules whose fix changes licences (the pack's licenceChange): never automatic, except a reprocess (modes.ts). */
export const LICENCE_RULES: ReadonlySet<RuleId> = new Set<RuleId>(RULE_IDS.filter((id) => RULE_METADATA[id].licenceChange));

/**
 * What the licence fix needs beyond the finding, read by the remediation service from Graph and
 * the remediation records (the planner itself reads nothing).
 */
export interface LicenceContext {
  /** The user's licences as Graph shows them now; undefined when Graph has no such user. */
  user?: LicenceUser;
  /** The tenant's subscriptions with their plans. */
  skus: readonly SubscribedSku[];
  /**
   * The latest reprocess of this user's licences made for this finding that still counts (the
   * current episode, or recently), if any.
   */
  reprocess?: { appliedAt: Date };
  /** A completed scan that started after that reprocess still reported the finding. */
  reportedAfterReprocess: boolean;
}

export interface PlanningContext {
  /** Required to plan licence-inherited-blocks-mia; without it the finding gets advice only. */
  licence?: LicenceContext;
}

export function planRemediationFor(finding: PlannableFinding, policy: AuditPolicy, context: PlanningContext = {}): PlanOutcome {
  const key = findingKey(finding);
  const advise = (reason: string): PlanOutcome => ({
    kind: 'advice',
    advice: {
      findingKey: key,
      ruleId: finding.ruleId,
      objectId: finding.objectId,
      userPrincipalName: finding.userPrincipalName,
      ...(finding.logonType ? { logonType: finding.logonType } : {}),
      reason,
    },
  });
  if (finding.error) return advise(`the rule could not be evaluated on this object (${finding.error}); there is nothing to fix until it can`);

  const change = changeFor(finding, policy, context);
  if (typeof change === 'string') return advise(change);
  const episode = finding.episode ?? 1;
  return {
    kind: 'plan',
    plan: {
      findingKey: key,
      episode,
      ruleId: finding.ruleId,
      objectType: finding.objectType,
      objectId: finding.objectId,
      userPrincipalName: finding.userPrincipalName,
      ...(finding.logonType ? { logonType: finding.logonType } : {}),
      change,
      description: describeChange(change),
      idempotencyKey: idempotencyKeyOf(key, episode, change),
    },
  };
}

/** The change, or why there is none (a string: advice only). */
function changeFor(finding: PlannableFinding, policy: AuditPolicy, context: PlanningContext): RemediationChange | string {
  const identity = finding.objectId;
  const logonType = finding.logonType;
  switch (finding.ruleId) {
    case 'org-audit-disabled':
      return { kind: 'set-organization-config', auditDisabled: false };
    case 'audit-log-ingestion-disabled':
      return { kind: 'set-admin-audit-log-config', unifiedAuditLogIngestionEnabled: true };
    case 'mailbox-audit-disabled':
      return { kind: 'set-mailbox', identity, auditEnabled: true };
    case 'mailbox-audit-log-age-short':
      return { kind: 'set-mailbox', identity, auditLogAgeLimitDays: policy.minimumAuditLogAgeDays };
    case 'audit-bypass-enabled':
      return { kind: 'set-bypass-association', identity, auditBypassEnabled: false };
    case 'mailitemsaccessed-missing':
    case 'audit-actions-missing': {
      if (!logonType) return 'the finding names no logon type, so there is no list to add to';
      if (restoresDefaultSet(policy, logonType)) return { kind: 'set-mailbox', identity, defaultAuditSet: [logonType] };
      const missing = finding.ruleId === 'mailitemsaccessed-missing' ? [MAIL_ITEMS_ACCESSED] : actionList(finding.expected);
      if (missing.length === 0) return 'the finding does not say which actions are missing';
      return { kind: 'set-mailbox', identity, addActions: { [logonType]: missing } };
    }
    case 'default-audit-set-customised':
      if (!logonType) return 'the finding names no logon type';
      if (!policy.preferDefaultAuditSet) {
        return 'advice only: restoring Microsoft\'s managed set replaces the customised list; set policy.preferDefaultAuditSet to let Audit Warden run Set-Mailbox -DefaultAuditSet';
      }
      return { kind: 'set-mailbox', identity, defaultAuditSet: [logonType] };
    case 'advanced-auditing-plan-missing':
      return 'advice only: re-enabling the Advanced Auditing plan is a licence change made in the licence (or group) assignment; see the rule\'s fix text';
    case 'audit-retention-too-short':
      return 'advice only: the unified audit log\'s retention comes from the licence or a Purview audit retention policy, which Exchange REST cannot set; see the rule\'s fix text';
    case 'licence-inherited-blocks-mia':
      return licenceChangeFor(finding, context.licence);
  }
}

/**
 * The group-licensing fix in two steps: re-run the group assignments first (harmless); only if a
 * scan after that still finds Exchange refusing, the direct assignment (for approval).
 */
function licenceChangeFor(finding: PlannableFinding, context: LicenceContext | undefined): RemediationChange | string {
  if (!context) return 'the licence fix needs the user\'s licences from Microsoft Graph; plan it through the remediation service';
  if (!context.reprocess) return { kind: 'reprocess-licence', userId: finding.objectId };
  if (!context.reportedAfterReprocess) {
    return (
      `the user's group licences were re-run (reprocessLicenseAssignment) at ${context.reprocess.appliedAt.toISOString()}; ` +
      'waiting for a scan after that to show whether Exchange now applies the licence before proposing a direct assignment'
    );
  }
  if (!context.user) return `Microsoft Graph has no user ${finding.objectId}; there is nobody to assign a licence to`;
  const assignment = directAssignmentFor(context.user, context.skus);
  if (typeof assignment === 'string') return assignment;
  return { kind: 'assign-licence', userId: finding.objectId, ...assignment };
}

/**
 * -DefaultAuditSet is used only when the policy prefers it and Microsoft's managed list for that
 * logon type holds everything the policy requires; otherwise the next scan would find the restored
 * list short and the two fixes would undo each other night after night.
 */
function restoresDefaultSet(policy: AuditPolicy, logonType: LogonType): boolean {
  if (!policy.preferDefaultAuditSet) return false;
  const lookups = compilePolicy(policy);
  return !lookups.requiredPremium[logonType].customisationRequired && !lookups.requiredStandard[logonType].customisationRequired;
}

function actionList(value: PlannableFinding['expected']): string[] {
  if (Array.isArray(value)) return [...new Set(value)].sort();
  return typeof value === 'string' && value !== '' ? [value] : [];
}

/** PowerShell single-quoted literal ('' escapes a quote). */
function quote(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

export function describeChange(change: RemediationChange): string {
  switch (change.kind) {
    case 'set-organization-config':
      return 'Set-OrganizationConfig -AuditDisabled $false';
    case 'set-admin-audit-log-config':
      return 'Set-AdminAuditLogConfig -UnifiedAuditLogIngestionEnabled $true (takes effect within about an hour; audit search returns the new records some hours later)';
    case 'set-bypass-association':
      return `Set-MailboxAuditBypassAssociation -Identity ${quote(change.identity)} -AuditBypassEnabled $false`;
    case 'reprocess-licence':
      return `POST /v1.0/users/${change.userId}/reprocessLicenseAssignment (no body: re-runs the user's group licence assignments; changes no plan and takes no seat)`;
    case 'assign-licence':
      return describeAssignment(change);
    case 'set-mailbox': {
      const parts = [`Set-Mailbox -Identity ${quote(change.identity)}`];
      if (change.auditEnabled) parts.push('-AuditEnabled $true');
      // The text a person reads; the Exchange client encodes and range-checks the real parameter.
      if (change.auditLogAgeLimitDays !== undefined) parts.push(`-AuditLogAgeLimit ${change.auditLogAgeLimitDays}.00:00:00`);
      for (const type of LOGON_TYPES) {
        const actions = change.addActions?.[type];
        if (actions && actions.length > 0) parts.push(`-Audit${type} @{Add=${actions.map(quote).join(',')}}`);
      }
      if (change.defaultAuditSet) parts.push(`-DefaultAuditSet ${change.defaultAuditSet.join(',')} (plus the logon types already managed)`);
      return parts.join(' ');
    }
  }
}

/** The exact body assignLicense will send, as the worker sends it. */
export function assignmentBody(change: Pick<AssignLicenceChange, 'skuId' | 'disabledPlans'>): { addLicenses: Array<{ skuId: string; disabledPlans: string[] }>; removeLicenses: string[] } {
  return { addLicenses: [{ skuId: change.skuId, disabledPlans: [...change.disabledPlans] }], removeLicenses: [] };
}

/**
 * What the approver reads, most important first (a Teams card shows only the first ~600
 * characters; the confirmation page and the command line show all): the exact call and body, the
 * SKU by name and that the licence outlives group membership, the plans kept off by name, then
 * what is switched on and how to undo it.
 */
function describeAssignment(change: AssignLicenceChange): string {
  const sku = change.skuPartNumber ? `${change.skuPartNumber} (${change.skuId})` : change.skuId;
  const kept =
    change.disabledPlans.length === 0
      ? 'The group\'s assignment disables no plan of this SKU, so none is disabled here either.'
      : `Stays disabled, as the group has it: ${change.disabledPlans.map((plan) => (change.planNames[plan] ? `${change.planNames[plan]} (${plan})` : `${plan} (name unknown)`)).join(', ')}.`;
  return [
    `POST /v1.0/users/${change.userId}/assignLicense ${JSON.stringify(assignmentBody(change))}`,
    `Assigns ${sku} directly, next to the group's assignment of the same SKU (no extra seat); the direct licence stays after the user leaves the group.`,
    kept,
    `Nothing the group leaves off is switched on except Microsoft 365 Advanced Auditing (${ADVANCED_AUDITING_PLAN_ID}). ` +
      `Audit Warden records the licence so it can be removed later: Set-MgUserLicense -UserId ${change.userId} -AddLicenses @() -RemoveLicenses @('${change.skuId}').`,
  ].join('\n');
}

/** JSON with sorted keys, so equal changes hash equally however they were built. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([name, item]) => `${JSON.stringify(name)}:${canonical(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function idempotencyKeyOf(key: string, episode: number, change: RemediationChange): string {
  return createHash('sha256').update(`${key}\n${episode}\n${canonical(change)}`).digest('hex').slice(0, 40);
}

/** Which change kinds can fix which rule (the pack's changeKinds): a message pairing a rule with another kind is refused. */
export const CHANGE_KINDS_BY_RULE: Readonly<Record<RuleId, readonly ChangeKind[]>> = Object.freeze(
  Object.fromEntries(RULE_IDS.map((id) => [id, RULE_METADATA[id].changeKinds])) as Record<RuleId, readonly ChangeKind[]>,
);
