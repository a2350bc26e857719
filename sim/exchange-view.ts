/**
 * How Exchange's InvokeCommand shows simulated objects: property tables for Get-Mailbox,
 * Get-MailboxAuditBypassAssociation, Get-OrganizationConfig and Get-AdminAuditLogConfig, `$select`,
 * the `<Prop>@odata.type` annotations Exchange puts next to multi-valued properties, the
 * `<Prop>@data.type` sidecars it puts next to some scalars, and the two TimeSpan spellings
 * (REFERENCE.md §1.3: "180.00:00:00" or an ISO-8601 duration).
 */
import { ADMIN_AUDIT_LOG_SETTINGS_NAME } from './microsoft-facts';
import { deriveSeed, mulberry32, nextGuid } from './prng';
import type { AuditLogAgeLimitFormat, SimBypassAssociation, SimMailbox, SimOrganization, SimulatedTenant } from './tenant';

type Json = string | number | boolean | null | readonly Json[] | { readonly [key: string]: Json };

interface PropertyDefinition<T> {
  get: (item: T, tenant: SimulatedTenant) => Json;
  /** Multi-valued: Exchange adds `"<Name>@odata.type": "#Collection(String)"`. */
  collection?: boolean;
  /** A .NET type Exchange names in a `"<Name>@data.type"` sidecar key before the value. */
  dataType?: string;
}

type PropertyTable<T> = Record<string, PropertyDefinition<T>>;

const COLLECTION_STRING = '#Collection(String)';

export const MAILBOX_PROPERTIES: PropertyTable<SimMailbox> = {
  Name: { get: (m) => m.alias },
  Alias: { get: (m) => m.alias },
  DisplayName: { get: (m) => m.displayName },
  Identity: { get: (m) => m.alias },
  Id: { get: (m) => m.alias },
  Guid: { get: (m) => m.guid },
  ExchangeGuid: { get: (m, t) => exchangeGuid(m, t) },
  ExternalDirectoryObjectId: { get: (m) => m.user.id },
  UserPrincipalName: { get: (m) => m.user.userPrincipalName },
  PrimarySmtpAddress: { get: (m) => m.primarySmtpAddress },
  WindowsEmailAddress: { get: (m) => m.primarySmtpAddress },
  EmailAddresses: { get: (m, t) => [`SMTP:${m.primarySmtpAddress}`, `smtp:${m.alias}@${t.domain.replace('.onmicrosoft.com', '.mail.onmicrosoft.com')}`], collection: true },
  RecipientType: { get: () => 'UserMailbox' },
  RecipientTypeDetails: { get: (m) => m.recipientTypeDetails },
  IsMailboxEnabled: { get: () => true },
  IsInactiveMailbox: { get: () => false },
  AccountDisabled: { get: (m) => !m.user.accountEnabled },
  HiddenFromAddressListsEnabled: { get: () => false },
  LitigationHoldEnabled: { get: () => false },
  RetainDeletedItemsFor: { get: (_m, t) => formatTimeSpan(14 * 86_400, t.auditLogAgeLimitFormat) },
  UsageLocation: { get: (m) => usageLocationName(m.user.usageLocation) },
  WhenCreatedUTC: { get: (_m, t) => t.licensedSince },
  AuditEnabled: { get: (m) => m.auditEnabled },
  AuditLogAgeLimit: { get: (m, t) => formatTimeSpan(m.auditLogAgeLimitSeconds, t.auditLogAgeLimitFormat) },
  AuditAdmin: { get: (m) => m.audit.Admin, collection: true },
  AuditDelegate: { get: (m) => m.audit.Delegate, collection: true },
  AuditOwner: { get: (m) => m.audit.Owner, collection: true },
  DefaultAuditSet: { get: (m) => m.defaultAuditSet, collection: true },
  PersistedCapabilities: { get: (m) => m.persistedCapabilities, collection: true },
};

export const BYPASS_PROPERTIES: PropertyTable<SimBypassAssociation> = {
  Name: { get: (a) => a.identity },
  Identity: { get: (a) => a.identity },
  Id: { get: (a) => a.identity },
  Guid: { get: (a) => a.guid },
  AuditBypassEnabled: { get: (a) => a.auditBypassEnabled },
  ObjectCategory: { get: (_a, t) => `${t.domain.split('.')[0] ?? ''}/Configuration/Schema/Person` },
  ObjectClass: { get: () => ['top', 'person', 'organizationalPerson', 'user'], collection: true },
  IsValid: { get: () => true },
  WhenChangedUTC: { get: (_a, t) => t.licensedSince },
};

export const ORGANIZATION_PROPERTIES: PropertyTable<SimOrganization> = {
  Name: { get: (o) => o.identity },
  Identity: { get: (o) => o.identity },
  Id: { get: (o) => o.identity },
  DisplayName: { get: (o) => o.displayName },
  Guid: { get: (o) => o.guid },
  AuditDisabled: { get: (o) => o.auditDisabled },
  IsDehydrated: { get: () => false },
  OAuth2ClientProfileEnabled: { get: () => true },
  CustomerLockboxEnabled: { get: () => false },
};

/**
 * Get-AdminAuditLogConfig, in the order and with the sidecar keys of a live Exchange Online record
 * (rknightion/graph2otel exchangeauditconfig_test.go, captured 2026-07).
 */
export const ADMIN_AUDIT_LOG_PROPERTIES: PropertyTable<SimOrganization> = {
  AdminAuditLogEnabled: { get: () => true },
  LogLevel: { get: () => 'None' },
  TestCmdletLoggingEnabled: { get: () => false },
  AdminAuditLogAgeLimit: { get: (_o, t) => formatTimeSpan(90 * 86_400, t.auditLogAgeLimitFormat) },
  LoadBalancerCount: { get: () => 3, dataType: 'System.Int32' },
  UnifiedAuditLogIngestionEnabled: { get: (o) => o.unifiedAuditLogIngestionEnabled },
  UnifiedAuditLogFirstOptInDate: { get: (o) => o.unifiedAuditLogFirstOptInDate, dataType: 'System.DateTime' },
  Name: { get: () => ADMIN_AUDIT_LOG_SETTINGS_NAME },
  Identity: { get: () => ADMIN_AUDIT_LOG_SETTINGS_NAME },
};

/** Derived on demand rather than stored: few clients ask for it, and 100,000 stored ids cost memory. */
function exchangeGuid(mailbox: SimMailbox, tenant: SimulatedTenant): string {
  return nextGuid(mulberry32(deriveSeed(tenant.seed, `exchange-guid:${mailbox.guid}`)));
}

const USAGE_LOCATION_NAMES: Record<string, string> = {
  US: 'United States',
  GB: 'United Kingdom',
  DE: 'Germany',
  NL: 'Netherlands',
  FR: 'France',
  SE: 'Sweden',
  JP: 'Japan',
  IN: 'India',
};

function usageLocationName(code: string | null): string | null {
  return code === null ? null : (USAGE_LOCATION_NAMES[code] ?? code);
}

/** A record serialiser for one request: the property list is resolved once, then applied per item. */
export type RecordWriter<T> = (item: T) => Record<string, Json>;

/**
 * Unknown $select names are left out, not refused: the real API's behaviour is not documented
 * (README), and the client's own schema catches a missing property.
 */
export function recordWriter<T>(table: PropertyTable<T>, tenant: SimulatedTenant, select: readonly string[] | undefined): RecordWriter<T> {
  const names = select ? resolveSelect(table, select) : Object.keys(table);
  const definitions = names.map((name) => {
    const definition = table[name] as PropertyDefinition<T>;
    return {
      name,
      get: definition.get,
      annotation: definition.collection ? `${name}@odata.type` : definition.dataType ? `${name}@data.type` : undefined,
      annotationValue: definition.collection ? COLLECTION_STRING : (definition.dataType ?? ''),
    };
  });
  return (item) => {
    const record: Record<string, Json> = {};
    for (const { name, get, annotation, annotationValue } of definitions) {
      if (annotation) record[annotation] = annotationValue;
      record[name] = get(item, tenant);
    }
    return record;
  };
}

function resolveSelect<T>(table: PropertyTable<T>, select: readonly string[]): string[] {
  const byLower = new Map(Object.keys(table).map((name) => [name.toLowerCase(), name]));
  const names: string[] = [];
  for (const raw of select) {
    const name = byLower.get(raw.trim().toLowerCase());
    if (name && !names.includes(name)) names.push(name);
  }
  return names;
}

/** A getter for a -Filter property (resolved once per query), or undefined for an unknown name. */
export function mailboxPropertyGetter(name: string): ((mailbox: SimMailbox, tenant: SimulatedTenant) => Json) | undefined {
  const canonical = Object.keys(MAILBOX_PROPERTIES).find((key) => key.toLowerCase() === name.toLowerCase());
  return canonical ? MAILBOX_PROPERTIES[canonical]?.get : undefined;
}

// A closure variable, not a global lookup per record (global lookups are slow in jest's sandbox).
const { floor } = Math;
const pad2 = (value: number): string => (value < 10 ? `0${value}` : `${value}`);

/** .NET TimeSpan "c" format ([d.]hh:mm:ss) or an XML/ISO-8601 duration (P180D, P1DT12H). */
export function formatTimeSpan(totalSeconds: number, format: AuditLogAgeLimitFormat): string {
  const days = floor(totalSeconds / 86_400);
  const hours = floor((totalSeconds % 86_400) / 3600);
  const minutes = floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  if (format === 'iso8601') {
    const time = `${hours ? `${hours}H` : ''}${minutes ? `${minutes}M` : ''}${seconds ? `${seconds}S` : ''}`;
    if (!days && !time) return 'PT0S';
    return `P${days ? `${days}D` : ''}${time ? `T${time}` : ''}`;
  }
  return `${days ? `${days}.` : ''}${pad2(hours)}:${pad2(minutes)}:${pad2(seconds)}`;
}

/**
 * What PowerShell accepts for an EnhancedTimeSpan parameter: "d.hh:mm:ss", "hh:mm[:ss]" or a bare
 * number of days. ISO-8601 is refused, as TimeSpan.Parse refuses it. Returns whole seconds, or
 * undefined when the text is not a TimeSpan.
 */
export function parseTimeSpan(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^\d{1,7}$/.test(trimmed)) return Number(trimmed) * 86_400;
  const match = /^(?:(\d{1,7})\.)?(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d{1,7})?)?$/.exec(trimmed);
  if (!match) return undefined;
  const [, days, hours, minutes, seconds] = match;
  const h = Number(hours);
  const m = Number(minutes);
  const s = Number(seconds ?? '0');
  if (h > 23 || m > 59 || s > 59) return undefined;
  return Number(days ?? '0') * 86_400 + h * 3600 + m * 60 + s;
}
