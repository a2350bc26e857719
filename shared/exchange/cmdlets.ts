import { LOGON_TYPES, type BypassAssociation, type LogonType, type MailboxAuditSnapshot, type OrganizationAuditSnapshot } from '../domain/audit';
import { ServiceError, ValidationError } from '../errors';
import type { CmdletParameters, ExchangeCommandRunner } from './client';
import { isExchangeNotFound } from './errors';
import {
  ADMIN_AUDIT_LOG_PROPERTIES,
  BYPASS_PROPERTIES,
  MAILBOX_PROPERTIES,
  ORGANIZATION_PROPERTIES,
  toBypassAssociation,
  toIngestionEnabled,
  toMailboxSnapshot,
  toOrganizationSnapshot,
} from './records';
import { formatTimeSpanDays } from './timespan';

/**
 * Typed wrappers for the cmdlets Audit Warden reads and writes. Each parses what Exchange returns
 * at this boundary, so everything past here works with domain types.
 */

/** What a Set-* call reports back; warnings often say "nothing was changed". */
export interface CommandOutcome {
  warnings: string[];
}

export interface StreamMailboxesOptions {
  /** e.g. ['UserMailbox', 'SharedMailbox']; empty means every type Get-Mailbox returns by default. */
  recipientTypeDetails: readonly string[];
}

/** The tag that makes Exchange treat an object as PowerShell's @{Add=...; Remove=...}. */
const GENERIC_HASH_TABLE = '#Exchange.GenericHashTable';

export async function* streamMailboxes(
  client: ExchangeCommandRunner,
  options: StreamMailboxesOptions,
): AsyncGenerator<MailboxAuditSnapshot> {
  const parameters: Record<string, unknown> = { ResultSize: 'Unlimited' };
  if (options.recipientTypeDetails.length > 0) parameters.RecipientTypeDetails = [...options.recipientTypeDetails];
  for await (const record of client.records('Get-Mailbox', parameters, { select: MAILBOX_PROPERTIES })) {
    yield toMailboxSnapshot(record);
  }
}

/** One mailbox, or undefined when Exchange says it does not exist. */
export async function getMailbox(client: ExchangeCommandRunner, identity: string): Promise<MailboxAuditSnapshot | undefined> {
  const records = await readAll(client, 'Get-Mailbox', { Identity: requireIdentity(identity, 'Get-Mailbox') }, MAILBOX_PROPERTIES);
  if (records === undefined || records.length === 0) return undefined;
  if (records.length > 1) {
    throw new ServiceError(`Get-Mailbox -Identity "${identity}" matched ${records.length} mailboxes; use a unique identity such as the Guid.`, 'exchange');
  }
  return toMailboxSnapshot(records[0]);
}

export async function* streamBypassAssociations(client: ExchangeCommandRunner): AsyncGenerator<BypassAssociation> {
  for await (const record of client.records('Get-MailboxAuditBypassAssociation', { ResultSize: 'Unlimited' }, { select: BYPASS_PROPERTIES })) {
    yield toBypassAssociation(record);
  }
}

/**
 * One bypass association, or undefined. Exchange documents that an Identity it does not know
 * returns *all* associations (REFERENCE.md §2.1), so several answers are narrowed to the one whose
 * Identity or Guid is the one asked for, and none of them matching means "not found".
 */
export async function getBypassAssociation(client: ExchangeCommandRunner, identity: string): Promise<BypassAssociation | undefined> {
  const cmdlet = 'Get-MailboxAuditBypassAssociation';
  const records = await readAll(client, cmdlet, { Identity: requireIdentity(identity, cmdlet) }, BYPASS_PROPERTIES);
  if (records === undefined || records.length === 0) return undefined;
  const associations = records.map((record) => toBypassAssociation(record));
  if (associations.length === 1) return associations[0];
  const wanted = identity.trim().toLowerCase();
  return associations.find((item) => item.identity.toLowerCase() === wanted || item.objectId.toLowerCase() === wanted);
}

/**
 * Get-OrganizationConfig and Get-AdminAuditLogConfig together: the two tenant-wide switches. The
 * second needs the Audit Logs role (or View-Only Configuration); when it fails the snapshot says
 * ingestion is unknown and why, so the rule reports an error instead of the scan failing or, worse,
 * reading the switch as on.
 */
export async function getOrganizationConfig(client: ExchangeCommandRunner): Promise<OrganizationAuditSnapshot> {
  const cmdlet = 'Get-OrganizationConfig';
  const [records, ingestion] = await Promise.all([
    readAll(client, cmdlet, {}, ORGANIZATION_PROPERTIES).then((found) => found ?? []),
    getUnifiedAuditLogIngestion(client).then(
      (enabled) => ({ enabled, error: undefined }),
      (error: unknown) => ({ enabled: null, error: error instanceof Error ? error.message : String(error) }),
    ),
  ]);
  if (records.length !== 1) {
    throw new ServiceError(`${cmdlet} returned ${records.length} records; expected exactly one organization.`, 'exchange');
  }
  const snapshot = toOrganizationSnapshot(records[0]);
  snapshot.unifiedAuditLogIngestionEnabled = ingestion.enabled;
  if (ingestion.error !== undefined) snapshot.ingestionReadError = ingestion.error;
  return snapshot;
}

/** Get-AdminAuditLogConfig UnifiedAuditLogIngestionEnabled (REFERENCE.md §2.5). */
export async function getUnifiedAuditLogIngestion(client: ExchangeCommandRunner): Promise<boolean> {
  const cmdlet = 'Get-AdminAuditLogConfig';
  const records = (await readAll(client, cmdlet, {}, ADMIN_AUDIT_LOG_PROPERTIES)) ?? [];
  if (records.length !== 1) {
    throw new ServiceError(`${cmdlet} returned ${records.length} records; expected exactly one.`, 'exchange');
  }
  return toIngestionEnabled(records[0]);
}

/** Set-AdminAuditLogConfig: the only parameter that works in Exchange Online; only ever to true. */
export async function enableUnifiedAuditLogIngestion(client: ExchangeCommandRunner): Promise<CommandOutcome> {
  const { warnings } = await client.invoke('Set-AdminAuditLogConfig', { UnifiedAuditLogIngestionEnabled: true });
  return { warnings };
}

export interface MailboxAuditChange {
  auditEnabled?: boolean;
  /** Whole days; written as "<days>.00:00:00". */
  auditLogAgeLimitDays?: number;
  /** Actions to add per logon type, sent as @{Add=...}: existing actions are kept. */
  addActions?: Partial<Record<LogonType, readonly string[]>>;
  /** Logon types whose action list goes back to Microsoft's defaults. */
  defaultAuditSet?: readonly LogonType[];
}

/** Set-Mailbox parameters for an audit change; exported so the encoding can be checked on its own. */
export function buildSetMailboxAuditParameters(identity: string, change: MailboxAuditChange): Record<string, unknown> {
  const parameters: Record<string, unknown> = { Identity: requireIdentity(identity, 'Set-Mailbox') };
  if (change.auditEnabled !== undefined) parameters.AuditEnabled = change.auditEnabled;
  if (change.auditLogAgeLimitDays !== undefined) {
    try {
      parameters.AuditLogAgeLimit = formatTimeSpanDays(change.auditLogAgeLimitDays);
    } catch (error) {
      throw new ValidationError(`AuditLogAgeLimit must be a whole number of days; got ${change.auditLogAgeLimitDays}.`, 'Set-Mailbox', [], {
        cause: error,
      });
    }
  }
  for (const type of LOGON_TYPES) {
    const actions = change.addActions?.[type];
    if (actions === undefined) continue;
    const names = [...new Set(actions.map((action) => action.trim()))];
    const bad = names.find((name) => !/^[A-Za-z]+$/.test(name));
    if (bad !== undefined) throw new ValidationError(`"${bad}" is not an audit action name.`, 'Set-Mailbox', [`addActions.${type}`]);
    if (names.length > 0) parameters[`Audit${type}`] = { '@odata.type': GENERIC_HASH_TABLE, Add: names };
  }
  if (change.defaultAuditSet !== undefined) {
    // An empty list has no documented meaning for -DefaultAuditSet; refuse it rather than guess.
    if (change.defaultAuditSet.length === 0) {
      throw new ValidationError('defaultAuditSet must name at least one logon type.', 'Set-Mailbox', ['defaultAuditSet']);
    }
    parameters.DefaultAuditSet = [...new Set(change.defaultAuditSet)];
  }
  if (Object.keys(parameters).length === 1) {
    throw new ValidationError(`Set-Mailbox for "${identity}" was asked to change nothing.`, 'Set-Mailbox');
  }
  return parameters;
}

export async function setMailboxAudit(client: ExchangeCommandRunner, identity: string, change: MailboxAuditChange): Promise<CommandOutcome> {
  const { warnings } = await client.invoke('Set-Mailbox', buildSetMailboxAuditParameters(identity, change));
  return { warnings };
}

export async function setBypassAssociation(client: ExchangeCommandRunner, identity: string, enabled: boolean): Promise<CommandOutcome> {
  const cmdlet = 'Set-MailboxAuditBypassAssociation';
  const { warnings } = await client.invoke(cmdlet, { Identity: requireIdentity(identity, cmdlet), AuditBypassEnabled: enabled });
  return { warnings };
}

export async function setOrganizationAuditDisabled(client: ExchangeCommandRunner, disabled: boolean): Promise<CommandOutcome> {
  const { warnings } = await client.invoke('Set-OrganizationConfig', { AuditDisabled: disabled });
  return { warnings };
}

/**
 * Every record of a small, single-object query; undefined when Exchange says the object does not
 * exist. Reads through records() so an unexpectedly paged answer is still read whole.
 */
async function readAll(
  client: ExchangeCommandRunner,
  cmdlet: string,
  parameters: CmdletParameters,
  select: readonly string[],
): Promise<unknown[] | undefined> {
  const records: unknown[] = [];
  try {
    for await (const record of client.records(cmdlet, parameters, { select })) records.push(record);
  } catch (error) {
    if (isExchangeNotFound(error)) return undefined;
    throw error;
  }
  return records;
}

/**
 * An empty Identity must never reach Exchange: for the bypass cmdlets a null Identity means
 * "every object".
 */
function requireIdentity(identity: string, cmdlet: string): string {
  const value = identity.trim();
  if (value === '') throw new ValidationError(`${cmdlet} needs an Identity; an empty one would address every object.`, cmdlet);
  return value;
}
