import { createHash } from 'node:crypto';
import type { AuditPolicy } from '../config/policy';
import { LOGON_TYPES, MAIL_ITEMS_ACCESSED, type LogonType } from '../domain/audit';
import { findingKey, type Finding, type ObjectType, type RuleId } from '../domain/finding';
import { formatTimeSpanDays } from '../exchange/timespan';
import { compilePolicy } from '../rules/compiled-policy';

/**
 * The remediation planner: finding → the exact change that fixes it (DESIGN.md's rules table).
 * Pure: no I/O, no clock. The change is data (what the worker sends), the description is what a
 * person reads before approving (PowerShell as an admin would type it).
 *
 * Every change only ever moves a setting towards "audited": AuditEnabled $true, actions added with
 * @{Add=…} (never a replacement list, so an action someone added on purpose stays), a retention
 * that is never 0 (00:00:00 purges every record), bypass off, org auditing on, a licence added.
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

/**
 * Graph `assignLicense` of the SKU that carries Advanced Auditing to the user through a group, as a
 * direct assignment (the documented way out of the group-licensing failure). The SKU is chosen when
 * the change is applied, from the user's licences as they are then; the user's usage location is
 * checked first (Graph refuses an assignment without one).
 */
export interface AssignLicenceChange {
  kind: 'assign-licence';
  userId: string;
}

export type RemediationChange = SetMailboxChange | SetBypassAssociationChange | SetOrganizationConfigChange | AssignLicenceChange;

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

/** Rules whose fix changes licences; the policy can never make them automatic. */
export const LICENCE_RULES: ReadonlySet<RuleId> = new Set<RuleId>(['licence-inherited-blocks-mia', 'advanced-auditing-plan-missing']);

export function planRemediationFor(finding: PlannableFinding, policy: AuditPolicy): PlanOutcome {
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

  const change = changeFor(finding, policy);
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
function changeFor(finding: PlannableFinding, policy: AuditPolicy): RemediationChange | string {
  const identity = finding.objectId;
  const logonType = finding.logonType;
  switch (finding.ruleId) {
    case 'org-audit-disabled':
      return { kind: 'set-organization-config', auditDisabled: false };
    case 'mailbox-audit-disabled':
      return { kind: 'set-mailbox', identity, auditEnabled: true };
    case 'retention-too-short':
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
    case 'licence-inherited-blocks-mia':
      return { kind: 'assign-licence', userId: finding.objectId };
  }
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
    case 'set-bypass-association':
      return `Set-MailboxAuditBypassAssociation -Identity ${quote(change.identity)} -AuditBypassEnabled $false`;
    case 'assign-licence':
      return (
        `POST /v1.0/users/${change.userId}/assignLicense {"addLicenses":[{"skuId":"<the SKU that reaches the user only through a group and carries Advanced Auditing>","disabledPlans":[]}],"removeLicenses":[]}` +
        ' (after checking that the user has a usage location)'
      );
    case 'set-mailbox': {
      const parts = [`Set-Mailbox -Identity ${quote(change.identity)}`];
      if (change.auditEnabled) parts.push('-AuditEnabled $true');
      if (change.auditLogAgeLimitDays !== undefined) parts.push(`-AuditLogAgeLimit ${formatTimeSpanDays(change.auditLogAgeLimitDays)}`);
      for (const type of LOGON_TYPES) {
        const actions = change.addActions?.[type];
        if (actions && actions.length > 0) parts.push(`-Audit${type} @{Add=${actions.map(quote).join(',')}}`);
      }
      if (change.defaultAuditSet) parts.push(`-DefaultAuditSet ${change.defaultAuditSet.join(',')} (plus the logon types already managed)`);
      return parts.join(' ');
    }
  }
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

/** Which change kinds can fix which rule: a message pairing a rule with another kind is refused. */
export const CHANGE_KINDS_BY_RULE: Readonly<Record<RuleId, readonly RemediationChange['kind'][]>> = {
  'org-audit-disabled': ['set-organization-config'],
  'mailbox-audit-disabled': ['set-mailbox'],
  'mailitemsaccessed-missing': ['set-mailbox'],
  'audit-actions-missing': ['set-mailbox'],
  'retention-too-short': ['set-mailbox'],
  'audit-bypass-enabled': ['set-bypass-association'],
  'default-audit-set-customised': ['set-mailbox'],
  'advanced-auditing-plan-missing': [],
  'licence-inherited-blocks-mia': ['assign-licence'],
};
