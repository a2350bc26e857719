import { z } from 'zod';
import { formatZodIssues } from '../config/zod-format';
import { LOGON_TYPES, type BypassAssociation, type LogonType, type MailboxAuditSnapshot, type OrganizationAuditSnapshot } from '../domain/audit';
import { ExchangeRecordError } from './errors';
import { timeSpanToWholeDays } from './timespan';

/**
 * Zod schemas for the records Exchange returns, and their mapping to domain types. The schemas
 * accept the shapes the REST API is known or suspected to use (REFERENCE.md §1.3) and nothing
 * else: a record we cannot read is an error naming the record and the field, never a skip.
 */

/** Exactly the Get-Mailbox properties the snapshot needs; sent as $select. */
export const MAILBOX_PROPERTIES = [
  'ExternalDirectoryObjectId',
  'Guid',
  'UserPrincipalName',
  'PrimarySmtpAddress',
  'RecipientTypeDetails',
  'AuditEnabled',
  'AuditLogAgeLimit',
  'AuditOwner',
  'AuditDelegate',
  'AuditAdmin',
  'DefaultAuditSet',
  'PersistedCapabilities',
  'Name',
] as const;

export const BYPASS_PROPERTIES = ['Identity', 'Guid', 'AuditBypassEnabled'] as const;
export const ORGANIZATION_PROPERTIES = ['Identity', 'Name', 'AuditDisabled'] as const;
export const ADMIN_AUDIT_LOG_PROPERTIES = ['Identity', 'UnifiedAuditLogIngestionEnabled'] as const;

/** JSON booleans, or the "True"/"False" strings PowerShell-shaped output may carry. */
const booleanValue = z.unknown().transform((value, ctx) => {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) return value.trim().toLowerCase() === 'true';
  ctx.addIssue(`expected true or false, got ${show(value)}`);
  return z.NEVER;
});

/** A multi-valued property: an array of strings; null means empty. A missing property is an error. */
const multiValued = z.unknown().transform((value, ctx) => {
  if (value === null) return [];
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value;
  ctx.addIssue(`expected a list of strings or null, got ${show(value)}`);
  return z.NEVER;
});

const logonTypes = multiValued.transform((values, ctx) => {
  const result: LogonType[] = [];
  for (const value of values) {
    const type = LOGON_TYPES.find((candidate) => candidate.toLowerCase() === value.trim().toLowerCase());
    if (!type) {
      ctx.addIssue(`"${value}" is not a logon type (${LOGON_TYPES.join(', ')})`);
      return z.NEVER;
    }
    if (!result.includes(type)) result.push(type);
  }
  return result;
});

/**
 * AuditLogAgeLimit as whole days: a TimeSpan string in any form timespan.ts reads, or a
 * serialised .NET TimeSpan object (Ticks / TotalDays), which some PowerShell-shaped output uses.
 */
const ageLimitDays = z.unknown().transform((value, ctx) => {
  if (typeof value === 'string') {
    const days = timeSpanToWholeDays(value);
    if (days !== undefined) return days;
  } else if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    if (typeof record.Ticks === 'number' && record.Ticks >= 0) return Math.floor(record.Ticks / 864_000_000_000);
    if (typeof record.TotalDays === 'number' && record.TotalDays >= 0) return Math.floor(record.TotalDays + 1e-9);
  }
  ctx.addIssue(`expected a TimeSpan such as "90.00:00:00" or "P90D", got ${show(value)}`);
  return z.NEVER;
});

const optionalText = z
  .string()
  .nullish()
  .transform((value) => value?.trim() ?? '');
const requiredText = z.string().trim().min(1, 'expected a non-empty string');

const mailboxRecordSchema = z.object({
  ExternalDirectoryObjectId: optionalText,
  Guid: requiredText,
  UserPrincipalName: optionalText,
  PrimarySmtpAddress: optionalText,
  RecipientTypeDetails: requiredText,
  AuditEnabled: booleanValue,
  AuditLogAgeLimit: ageLimitDays,
  AuditOwner: multiValued,
  AuditDelegate: multiValued,
  AuditAdmin: multiValued,
  DefaultAuditSet: logonTypes,
  // Absent when not returned; the snapshot then leaves it undefined rather than claiming "none".
  PersistedCapabilities: multiValued.optional(),
  Name: optionalText.optional(),
});

const bypassRecordSchema = z
  .object({ Identity: optionalText, Guid: optionalText, AuditBypassEnabled: booleanValue })
  .refine((record) => record.Identity !== '' || record.Guid !== '', { message: 'expected an Identity or a Guid' });

const organizationRecordSchema = z
  .object({ Identity: optionalText, Name: optionalText, AuditDisabled: booleanValue })
  .refine((record) => record.Identity !== '' || record.Name !== '', { message: 'expected an Identity or a Name' });

// Live answers carry more properties and `<Prop>@data.type` sidecar keys (REFERENCE.md §2.5): ignored.
const adminAuditLogRecordSchema = z.object({ UnifiedAuditLogIngestionEnabled: booleanValue });

export function toMailboxSnapshot(record: unknown, cmdlet = 'Get-Mailbox'): MailboxAuditSnapshot {
  const data = parseRecord(mailboxRecordSchema, record, cmdlet, 'mailbox');
  const snapshot: MailboxAuditSnapshot = {
    // Some objects (e.g. not yet synced, or cloud-only system mailboxes) carry no Entra id; the
    // mailbox Guid is then the only stable key we have.
    objectId: data.ExternalDirectoryObjectId || data.Guid,
    exchangeGuid: data.Guid,
    userPrincipalName: data.UserPrincipalName,
    primarySmtpAddress: data.PrimarySmtpAddress,
    recipientTypeDetails: data.RecipientTypeDetails,
    auditEnabled: data.AuditEnabled,
    auditLogAgeLimitDays: data.AuditLogAgeLimit,
    auditActions: { Owner: data.AuditOwner, Delegate: data.AuditDelegate, Admin: data.AuditAdmin },
    defaultAuditSet: data.DefaultAuditSet,
  };
  if (data.PersistedCapabilities !== undefined) snapshot.persistedCapabilities = data.PersistedCapabilities;
  if (data.Name) snapshot.name = data.Name;
  return snapshot;
}

export function toBypassAssociation(record: unknown, cmdlet = 'Get-MailboxAuditBypassAssociation'): BypassAssociation {
  const data = parseRecord(bypassRecordSchema, record, cmdlet, 'bypass association');
  return {
    identity: data.Identity || data.Guid,
    objectId: data.Guid || data.Identity,
    auditBypassEnabled: data.AuditBypassEnabled,
  };
}

export function toOrganizationSnapshot(record: unknown, cmdlet = 'Get-OrganizationConfig'): OrganizationAuditSnapshot {
  const data = parseRecord(organizationRecordSchema, record, cmdlet, 'organization config');
  // Ingestion comes from another cmdlet; getOrganizationConfig's caller fills it in.
  return { identity: data.Identity || data.Name, auditDisabled: data.AuditDisabled, unifiedAuditLogIngestionEnabled: null };
}

/** Get-AdminAuditLogConfig's UnifiedAuditLogIngestionEnabled. */
export function toIngestionEnabled(record: unknown, cmdlet = 'Get-AdminAuditLogConfig'): boolean {
  return parseRecord(adminAuditLogRecordSchema, record, cmdlet, 'admin audit log config').UnifiedAuditLogIngestionEnabled;
}

function parseRecord<T>(schema: z.ZodType<T>, record: unknown, cmdlet: string, kind: string): T {
  if (record === null || typeof record !== 'object' || Array.isArray(record)) {
    throw new ExchangeRecordError(`${cmdlet} returned a ${kind} record that is not an object: ${show(record)}.`, cmdlet, '(unknown)', [
      `(record): expected an object, got ${show(record)}`,
    ]);
  }
  const result = schema.safeParse(record);
  if (result.success) return result.data;
  const identity = identify(record as Record<string, unknown>);
  const issues = formatZodIssues(result.error);
  throw new ExchangeRecordError(
    `${cmdlet} returned a ${kind} record we cannot read (${identity}): ${issues.join('; ')}.`,
    cmdlet,
    identity,
    issues,
  );
}

/** The most recognisable name a record carries, for error messages. */
function identify(record: Record<string, unknown>): string {
  for (const key of ['UserPrincipalName', 'PrimarySmtpAddress', 'Identity', 'Name', 'Guid', 'ExternalDirectoryObjectId']) {
    const value = record[key];
    if (typeof value === 'string' && value.trim() !== '') return `${key} ${value.trim()}`;
  }
  return 'no identity';
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing (the property is missing)';
  const text = JSON.stringify(value) ?? typeof value;
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}
