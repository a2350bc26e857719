/**
 * The simulated Exchange Online admin API: POST /adminapi/beta/{tenant}/InvokeCommand with
 * {"CmdletInput":{"CmdletName":…,"Parameters":{…}}}, `$select`, `Prefer: odata.maxpagesize`,
 * nextLink paging (the same body POSTed again), `@adminapi.warnings`, and OData errors whose
 * `details[0].message` reads "<errorId>|<exception class>|<text>" (REFERENCE.md §1.4).
 *
 * Cmdlets: Get/Set-Mailbox, Get/Set-MailboxAuditBypassAssociation, Get/Set-OrganizationConfig,
 * Get/Set-AdminAuditLogConfig.
 * Parameters are bound as PowerShell binds them: names case-insensitive, only those the cmdlet has
 * (sim/exchange-cmdlets.json) plus the common ones, booleans only as booleans or 0/1.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import cmdletTable from './exchange-cmdlets.json';
import {
  canonicalAuditOperation,
  LOGON_TYPES,
  RECIPIENT_TYPE_DETAILS,
  storedAuditOperation,
  VALID_ACTIONS,
  type LogonType,
} from './catalog';
import {
  ADMIN_AUDIT_LOG_PROPERTIES,
  BYPASS_PROPERTIES,
  MAILBOX_PROPERTIES,
  mailboxPropertyGetter,
  ORGANIZATION_PROPERTIES,
  parseTimeSpan,
  recordWriter,
} from './exchange-view';
import { header, JSON_ODATA, type ApiContext, type ExchangeQueryContext, type SimRequest, type SimResponse } from './http-types';
import { ADMIN_AUDIT_LOG_SETTINGS_NAME, ALREADY_AUDITED_ERROR, INGESTION_CHANGE_WARNING, MESSAGE_BIND, MESSAGE_BIND_ERROR, MIA_LICENCE_ERROR } from './microsoft-facts';
import {
  licenceRefuses,
  restoreDefaultAuditSet,
  setAuditActions,
  setAuditBypass,
  setAuditEnabled,
  setAuditLogAgeLimit,
  setOrganizationAuditDisabled,
  setUnifiedAuditLogIngestion,
} from './mutations';
import { alreadyAuditedResponse } from './quirks';
import { compileOpath, OpathError } from './opath-filter';
import { decodeSkipToken, encodeSkipToken, memberAt, nextLinkFor, type PagedQuery } from './paging';
import type { SimBypassAssociation, SimMailbox, SimulatedTenant } from './tenant';

/** Page size when the client sends no `Prefer: odata.maxpagesize` (the real default is undocumented). */
export const EXCHANGE_DEFAULT_PAGE_SIZE = 100;
export const EXCHANGE_MAX_PAGE_SIZE = 1000;
/** Get-* cmdlets stop here unless ResultSize says otherwise, as Exchange does. */
export const DEFAULT_RESULT_SIZE = 1000;

export { ALREADY_AUDITED_ERROR, MESSAGE_BIND_ERROR, MIA_LICENCE_ERROR };

const COMMON_PARAMETERS = [
  'Verbose',
  'Debug',
  'ErrorAction',
  'WarningAction',
  'InformationAction',
  'ProgressAction',
  'ErrorVariable',
  'WarningVariable',
  'InformationVariable',
  'OutVariable',
  'OutBuffer',
  'PipelineVariable',
];

const CMDLETS: Record<string, Record<string, string>> = cmdletTable.cmdlets;

const EXCEPTIONS = {
  binding: 'System.Management.Automation.ParameterBindingException',
  commandNotFound: 'System.Management.Automation.CommandNotFoundException',
  notFound: 'Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException',
  validation: 'Microsoft.Exchange.Data.DataValidationException',
  argument: 'System.ArgumentException',
  /** MessageBind's deprecation, and (⚠ class unverified) "already being audited". */
  recipientTask: 'Microsoft.Exchange.Configuration.Tasks.RecipientTaskException',
} as const;

// ---------------------------------------------------------------------------------------------
// Errors and responses

/** A cmdlet error: HTTP status, .NET exception class and Exchange's text; becomes an OData error body. */
export class CmdletFailure extends Error {
  override readonly name = 'CmdletFailure';
  constructor(
    readonly exceptionClass: string,
    readonly text: string,
    readonly status = 400,
  ) {
    super(text);
  }
}

/** Exchange's error ids look like "Ex6F9304"; the simulator derives a stable one per exception class. */
function errorIdFor(exceptionClass: string): string {
  return `Ex${createHash('sha1').update(exceptionClass).digest('hex').slice(0, 6).toUpperCase()}`;
}

const STATUS_CODES: Record<number, string> = { 400: 'BadRequest', 401: 'Unauthorized', 404: 'NotFound', 405: 'MethodNotAllowed', 500: 'InternalServerError' };

export function exchangeErrorResponse(req: SimRequest, failure: CmdletFailure): SimResponse {
  const shortClass = failure.exceptionClass.split('.').pop() ?? failure.exceptionClass;
  const body = {
    error: {
      code: STATUS_CODES[failure.status] ?? 'InternalServerError',
      message: 'Error executing cmdlet',
      details: [{ code: 'Context', target: '', message: `${errorIdFor(failure.exceptionClass)}|${failure.exceptionClass}|${failure.text}` }],
      innererror: {
        message: failure.text,
        type: failure.exceptionClass,
        stacktrace: '',
        internalException: { message: failure.text, type: failure.exceptionClass, stacktrace: '' },
      },
    },
  };
  return {
    status: failure.status,
    headers: { 'content-type': JSON_ODATA, 'x-exceptiontype': shortClass, 'x-exceptiontargettype': 'Error', 'x-requestid': req.requestId },
    body: JSON.stringify(body),
  };
}

/** An OData error outside cmdlet execution (routing, body, tenant). */
export function exchangeProtocolError(status: number, code: string, message: string): SimResponse {
  return { status, headers: { 'content-type': JSON_ODATA }, body: JSON.stringify({ error: { code, message } }) };
}

// ---------------------------------------------------------------------------------------------
// Request body

const invokeSchema = z.object({
  CmdletInput: z.object({
    CmdletName: z.string().min(1),
    Parameters: z.record(z.string(), z.unknown()).nullish(),
  }),
});

export interface InvokeInput {
  cmdletName: string;
  parameters: Record<string, unknown>;
  /** Identifies the body, so a next-page request can be checked against the first one. */
  fingerprint: string;
}

export function parseInvokeBody(text: string): InvokeInput | SimResponse {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return exchangeProtocolError(400, 'BadRequest', 'The request body is not valid JSON.');
  }
  const parsed = invokeSchema.safeParse(json);
  if (!parsed.success) {
    return exchangeProtocolError(400, 'BadRequest', 'The request body must be {"CmdletInput":{"CmdletName":"<cmdlet>","Parameters":{...}}}.');
  }
  const input = parsed.data.CmdletInput;
  const parameters = input.Parameters ?? {};
  return { cmdletName: input.CmdletName, parameters, fingerprint: fingerprint({ n: input.CmdletName.toLowerCase(), p: parameters }) };
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function fingerprint(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('base64url');
}

// ---------------------------------------------------------------------------------------------
// Parameter binding

type Bound = Map<string, unknown>;

function bindingError(text: string): CmdletFailure {
  return new CmdletFailure(EXCEPTIONS.binding, text);
}

function bind(cmdlet: string, parameters: Record<string, unknown>): Bound {
  const accepted = [...Object.keys(CMDLETS[cmdlet] ?? {}), ...COMMON_PARAMETERS];
  const byLower = new Map(accepted.map((name) => [name.toLowerCase(), name]));
  const bound: Bound = new Map();
  for (const [name, value] of Object.entries(parameters)) {
    const canonical = byLower.get(name.toLowerCase());
    if (!canonical) throw bindingError(`A parameter cannot be found that matches parameter name '${name}'.`);
    if (bound.has(canonical)) throw bindingError(`Cannot bind parameter because parameter '${canonical}' is specified more than once.`);
    bound.set(canonical, value);
  }
  return bound;
}

function conversionError(parameter: string, value: unknown, type: string, reason?: string): CmdletFailure {
  const shown = typeof value === 'string' ? value : JSON.stringify(value);
  return bindingError(
    `Cannot process argument transformation on parameter '${parameter}'. Cannot convert value "${shown}" to type "${type}".${reason ? ` Error: "${reason}"` : ''}`,
  );
}

/** PowerShell binds only booleans and numbers to a Boolean parameter; strings such as "False" fail. */
function boolParameter(bound: Bound, name: string): boolean | undefined {
  if (!bound.has(name)) return undefined;
  const value = bound.get(name);
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  throw bindingError(
    `Cannot process argument transformation on parameter '${name}'. Cannot convert value "System.String" to type "System.Boolean". Boolean parameters accept only Boolean values and numbers, such as $True, $False, 1 or 0.`,
  );
}

function switchParameter(bound: Bound, name: string): boolean {
  const value = bound.get(name);
  return value === true || (typeof value === 'number' && value !== 0) || (typeof value === 'object' && value !== null && (value as { IsPresent?: unknown }).IsPresent === true);
}

function stringParameter(bound: Bound, name: string): string | undefined {
  if (!bound.has(name)) return undefined;
  const value = bound.get(name);
  if (typeof value === 'string' && value.trim() !== '') return value;
  if (typeof value === 'number') return String(value);
  throw bindingError(`Cannot validate argument on parameter '${name}'. The argument is null or empty. Provide an argument that is not null or empty, and then try the command again.`);
}

/** String-array parameters accept an array or a comma-separated string. */
function listParameter(bound: Bound, name: string, type: string): string[] | undefined {
  if (!bound.has(name)) return undefined;
  const value = bound.get(name);
  const items = typeof value === 'string' ? value.split(',') : Array.isArray(value) ? value : undefined;
  if (!items || items.some((item) => typeof item !== 'string')) throw conversionError(name, value, type);
  return (items as string[]).map((item) => item.trim()).filter((item) => item !== '');
}

function resultSizeParameter(bound: Bound): number {
  if (!bound.has('ResultSize')) return DEFAULT_RESULT_SIZE;
  const value = bound.get('ResultSize');
  if (typeof value === 'string' && value.trim().toLowerCase() === 'unlimited') return Number.POSITIVE_INFINITY;
  const number = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  if (Number.isInteger(number) && number > 0) return number;
  throw conversionError('ResultSize', value, 'Microsoft.Exchange.Data.Unlimited`1[System.UInt32]');
}

// ---------------------------------------------------------------------------------------------
// Dispatch

export function handleExchange(ctx: ApiContext, req: SimRequest, input: InvokeInput): SimResponse {
  const cmdlet = Object.keys(CMDLETS).find((name) => name.toLowerCase() === input.cmdletName.toLowerCase());
  try {
    if (!cmdlet) {
      throw new CmdletFailure(
        EXCEPTIONS.commandNotFound,
        `The term '${input.cmdletName}' is not recognized as a name of a cmdlet, function, script file, or executable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again.`,
      );
    }
    const bound = bind(cmdlet, input.parameters);
    if (cmdlet.startsWith('Set-')) ctx.received.cmdlets.push({ cmdlet, parameters: input.parameters });
    switch (cmdlet) {
      case 'Get-Mailbox':
        return getMailbox(ctx, req, input, bound);
      case 'Get-MailboxAuditBypassAssociation':
        return getBypassAssociations(ctx, req, input, bound);
      case 'Get-OrganizationConfig':
        return answer(ctx, req, [recordWriter(ORGANIZATION_PROPERTIES, ctx.tenant, selectList(req))(ctx.tenant.organization)]);
      case 'Set-Mailbox':
        return setMailbox(ctx, req, bound);
      case 'Set-MailboxAuditBypassAssociation':
        return setBypassAssociation(ctx, req, bound);
      case 'Set-OrganizationConfig':
        return setOrganizationConfig(ctx, req, bound);
      case 'Get-AdminAuditLogConfig':
        return answer(ctx, req, [recordWriter(ADMIN_AUDIT_LOG_PROPERTIES, ctx.tenant, selectList(req))(ctx.tenant.organization)]);
      case 'Set-AdminAuditLogConfig':
        return setAdminAuditLogConfig(ctx, req, bound);
      default:
        throw new CmdletFailure(EXCEPTIONS.commandNotFound, `The term '${cmdlet}' is not recognized as a name of a cmdlet.`);
    }
  } catch (error) {
    if (error instanceof CmdletFailure) return exchangeErrorResponse(req, error);
    throw error;
  }
}

function contextUrl(ctx: ApiContext, req: SimRequest): string {
  const tenantSegment = req.url.pathname.split('/')[3] ?? ctx.tenant.tenantId;
  return `${ctx.baseUrl}/adminapi/beta/${tenantSegment}/$metadata#Collection(Exchange.GenericHashTable)`;
}

function answer(ctx: ApiContext, req: SimRequest, value: readonly unknown[], extras: { warnings?: string[]; nextLink?: string; pageSize?: number } = {}): SimResponse {
  const body: Record<string, unknown> = { '@odata.context': contextUrl(ctx, req) };
  if (extras.warnings && extras.warnings.length > 0) {
    body['adminapi.warnings@odata.type'] = '#Collection(String)';
    body['@adminapi.warnings'] = extras.warnings;
  }
  if (extras.nextLink) body['@odata.nextLink'] = extras.nextLink;
  body.value = value;
  const headers: Record<string, string> = { 'content-type': JSON_ODATA };
  if (extras.pageSize !== undefined) headers['preference-applied'] = `odata.maxpagesize=${extras.pageSize}`;
  return { status: 200, headers, body: JSON.stringify(body) };
}

function selectList(req: SimRequest): string[] | undefined {
  const select = req.url.searchParams.get('$select') ?? req.url.searchParams.get('select');
  return select === null ? undefined : select.split(',').filter((name) => name.trim() !== '');
}

function requestedPageSize(ctx: ApiContext, req: SimRequest): number {
  const prefer = header(req.headers, 'prefer');
  const match = prefer ? /odata\.maxpagesize\s*=\s*(\d+)/i.exec(prefer) : null;
  const size = match ? Number(match[1]) : ctx.exchangeDefaultPageSize;
  return size >= 1 ? Math.min(size, EXCHANGE_MAX_PAGE_SIZE) : ctx.exchangeDefaultPageSize;
}

/**
 * Serves one page of a Get-* query. On the first request `resolve` finds the members (the one
 * O(n) step); later requests carry a skip token and must repeat the same body.
 */
function servePage<T>(
  ctx: ApiContext,
  req: SimRequest,
  input: InvokeInput,
  cmdlet: string,
  resolve: () => { query: Omit<PagedQuery<never>, 'context'>; lastPageWarning?: string },
  items: readonly T[],
  write: (item: T) => unknown,
): SimResponse {
  const pageSize = requestedPageSize(ctx, req);
  const token = req.url.searchParams.get('$skiptoken') ?? req.url.searchParams.get('skiptoken');
  let query: PagedQuery<ExchangeQueryContext>;
  let queryId: string | undefined;
  let offset = 0;
  if (token !== null) {
    const decoded = decodeSkipToken(token);
    const stored = decoded && ctx.exchangeQueries.get(decoded.queryId);
    if (!decoded || !stored) throw new CmdletFailure(EXCEPTIONS.argument, 'The skip token is not valid or has expired. Start the query again without $skiptoken.');
    if (stored.context.cmdlet !== cmdlet || stored.context.bodyFingerprint !== input.fingerprint) {
      throw new CmdletFailure(EXCEPTIONS.argument, 'The request body does not match the query this skip token belongs to. POST the same body to @odata.nextLink.');
    }
    query = stored;
    queryId = decoded.queryId;
    offset = decoded.offset;
  } else {
    const resolved = resolve();
    query = { ...resolved.query, context: { cmdlet, bodyFingerprint: input.fingerprint, lastPageWarning: resolved.lastPageWarning } };
  }
  const end = Math.min(offset + pageSize, query.total);
  const value: unknown[] = [];
  for (let position = offset; position < end; position++) {
    const item = items[memberAt(query, position)];
    if (item !== undefined) value.push(write(item));
  }
  const last = end >= query.total;
  // Only queries with a next page are kept: single-object reads never push a scan's query out.
  if (!last) queryId ??= ctx.exchangeQueries.add(query);
  return answer(ctx, req, value, {
    pageSize,
    nextLink: last || queryId === undefined ? undefined : nextLinkFor(ctx.baseUrl, req.url, encodeSkipToken(queryId, end)),
    warnings: last && query.context.lastPageWarning ? [query.context.lastPageWarning] : undefined,
  });
}

const RESULT_SIZE_DEFAULT_WARNING =
  'By default, only the first 1000 items are returned. Use the ResultSize parameter to specify the number of items returned. To return all items, specify "-ResultSize Unlimited". Be aware that, depending upon the actual number of items, returning all items can take a long time and consume a large amount of memory. Also, we don\'t recommend storing the results in a variable. Instead, pipe the results to another task or script to perform batch changes.';
const RESULT_SIZE_WARNING = 'There are more results available than are currently displayed. To view them, increase the value for the ResultSize parameter.';

/** Caps a member list at ResultSize, with Exchange's warning when it cut something off. */
function capResults(indices: Uint32Array | null, total: number, bound: Bound): { query: Omit<PagedQuery<never>, 'context'>; lastPageWarning?: string } {
  const resultSize = resultSizeParameter(bound);
  if (total <= resultSize) return { query: { indices, total } };
  return {
    query: { indices, total: resultSize },
    lastPageWarning: bound.has('ResultSize') ? RESULT_SIZE_WARNING : RESULT_SIZE_DEFAULT_WARNING,
  };
}

function notFound(identity: string, tenant: SimulatedTenant): CmdletFailure {
  const server = `${tenant.domain.split('.')[0]?.toUpperCase() ?? 'NAM'}.PROD.OUTLOOK.COM`;
  return new CmdletFailure(EXCEPTIONS.notFound, `The operation couldn't be performed because object '${identity}' couldn't be found on '${server}'.`);
}

// ---------------------------------------------------------------------------------------------
// Get-Mailbox

/** Switches that ask for populations the simulator does not have (soft-deleted, inactive, group mailboxes...). */
const EMPTY_POPULATION_SWITCHES = ['SoftDeletedMailbox', 'InactiveMailboxOnly', 'GroupMailbox', 'PublicFolder', 'Archive', 'Migration'];

function getMailbox(ctx: ApiContext, req: SimRequest, input: InvokeInput, bound: Bound): SimResponse {
  const tenant = ctx.tenant;
  const write = recordWriter(MAILBOX_PROPERTIES, tenant, selectList(req));
  return servePage(ctx, req, input, 'Get-Mailbox', () => resolveMailboxes(tenant, bound), tenant.mailboxes, write);
}

function resolveMailboxes(tenant: SimulatedTenant, bound: Bound): { query: Omit<PagedQuery<never>, 'context'>; lastPageWarning?: string } {
  const types = listParameter(bound, 'RecipientTypeDetails', 'Microsoft.Exchange.Data.Directory.Recipient.RecipientTypeDetails[]');
  let typeSet: Set<string> | undefined;
  if (types) {
    typeSet = new Set();
    for (const type of types) {
      const canonical = RECIPIENT_TYPE_DETAILS.find((name) => name.toLowerCase() === type.toLowerCase());
      if (!canonical) {
        throw conversionError('RecipientTypeDetails', type, 'Microsoft.Exchange.Data.Directory.Recipient.RecipientTypeDetails', `Unable to match the identifier name ${type} to a valid enumerator name. Specify one of the following enumerator names and try again: ${RECIPIENT_TYPE_DETAILS.join(', ')}`);
      }
      typeSet.add(canonical);
    }
  }
  const identity = stringParameter(bound, 'Identity');
  const filterText = stringParameter(bound, 'Filter');
  const anr = stringParameter(bound, 'Anr')?.toLowerCase();
  let filter: ((mailbox: SimMailbox) => boolean) | undefined;
  if (filterText !== undefined) {
    try {
      filter = compileOpath<SimMailbox>(filterText, (name) => {
        const get = mailboxPropertyGetter(name);
        return get && ((mailbox) => get(mailbox, tenant));
      });
    } catch (error) {
      if (error instanceof OpathError) throw bindingError(`Cannot bind parameter 'Filter' to the target. Exception setting "Filter": "${error.message}"`);
      throw error;
    }
  }
  resultSizeParameter(bound);
  if (EMPTY_POPULATION_SWITCHES.some((name) => switchParameter(bound, name))) return { query: { indices: new Uint32Array(0), total: 0 } };

  const accepts = (mailbox: SimMailbox): boolean =>
    (!typeSet || typeSet.has(mailbox.recipientTypeDetails)) &&
    (!filter || filter(mailbox)) &&
    (anr === undefined || [mailbox.alias, mailbox.displayName, mailbox.primarySmtpAddress].some((text) => text.toLowerCase().startsWith(anr)));

  if (identity !== undefined) {
    const mailbox = tenant.lookups.mailbox(identity);
    if (!mailbox || !accepts(mailbox)) throw notFound(identity, tenant);
    return { query: { indices: Uint32Array.of(mailbox.index), total: 1 } };
  }
  if (!typeSet && !filter && anr === undefined) return capResults(null, tenant.mailboxes.length, bound);
  if (typeSet && !filter && anr === undefined && typeSet.size === 1) {
    const only = tenant.indicesByType.get([...typeSet][0] as SimMailbox['recipientTypeDetails']) ?? new Uint32Array(0);
    return capResults(only, only.length, bound);
  }
  const matches = new Uint32Array(tenant.mailboxes.length);
  let found = 0;
  for (const mailbox of tenant.mailboxes) if (accepts(mailbox)) matches[found++] = mailbox.index;
  return capResults(matches.slice(0, found), found, bound);
}

// ---------------------------------------------------------------------------------------------
// Get-MailboxAuditBypassAssociation

function getBypassAssociations(ctx: ApiContext, req: SimRequest, input: InvokeInput, bound: Bound): SimResponse {
  const tenant = ctx.tenant;
  const write = recordWriter(BYPASS_PROPERTIES, tenant, selectList(req));
  const resolve = (): { query: Omit<PagedQuery<never>, 'context'>; lastPageWarning?: string } => {
    const identity = stringParameter(bound, 'Identity');
    resultSizeParameter(bound);
    if (identity !== undefined) {
      const association = tenant.lookups.association(identity);
      if (!association) throw notFound(identity, tenant);
      return { query: { indices: Uint32Array.of(association.index), total: 1 } };
    }
    return capResults(null, tenant.associations.length, bound);
  };
  return servePage(ctx, req, input, 'Get-MailboxAuditBypassAssociation', resolve, tenant.associations, write);
}

// ---------------------------------------------------------------------------------------------
// Set-Mailbox

type ListEdit = { kind: 'replace'; actions: string[] } | { kind: 'edit'; add: string[]; remove: string[] };

const AUDIT_PARAMETERS: Record<LogonType, string> = { Owner: 'AuditOwner', Delegate: 'AuditDelegate', Admin: 'AuditAdmin' };
const OPERATIONS_TYPE = 'Microsoft.Exchange.Data.Directory.Recipient.MailboxAuditOperations';

function auditOperations(parameter: string, values: unknown): string[] {
  const items = values === null || values === undefined ? [] : Array.isArray(values) ? values : [values];
  return items.map((item) => {
    const name = typeof item === 'string' ? canonicalAuditOperation(item) : undefined;
    if (!name) {
      throw conversionError(
        parameter,
        item,
        OPERATIONS_TYPE,
        `Unable to match the identifier name ${String(item)} to a valid enumerator name. Specify one of the following enumerator names and try again: ${[...new Set(LOGON_TYPES.flatMap((type) => VALID_ACTIONS[type]))].join(', ')}`,
      );
    }
    return name;
  });
}

/**
 * A multi-valued parameter: an array (or one string) replaces the list; an object tagged
 * "#Exchange.GenericHashTable" with Add/Remove keys (any case) edits it, as `@{Add=…}` does.
 */
function listEdit(parameter: string, value: unknown): ListEdit {
  if (value === null || typeof value === 'string' || Array.isArray(value)) {
    return { kind: 'replace', actions: auditOperations(parameter, value).filter((name) => name !== 'None') };
  }
  if (typeof value !== 'object') throw conversionError(parameter, value, 'Microsoft.Exchange.Data.MultiValuedProperty`1[MailboxAuditOperations]');
  const table = value as Record<string, unknown>;
  if (table['@odata.type'] !== '#Exchange.GenericHashTable') {
    throw conversionError(parameter, value, 'Microsoft.Exchange.Data.MultiValuedProperty`1[MailboxAuditOperations]', 'An object must carry "@odata.type": "#Exchange.GenericHashTable" to be read as a hashtable.');
  }
  const edit: ListEdit = { kind: 'edit', add: [], remove: [] };
  for (const [key, entry] of Object.entries(table)) {
    if (key === '@odata.type') continue;
    const lower = key.toLowerCase();
    if (lower === 'add') edit.add.push(...auditOperations(parameter, entry));
    else if (lower === 'remove') edit.remove.push(...auditOperations(parameter, entry));
    else throw conversionError(parameter, value, 'Microsoft.Exchange.Data.MultiValuedProperty`1[MailboxAuditOperations]', `The hashtable key '${key}' is not valid; use Add or Remove.`);
  }
  return edit;
}

function applyEdit(current: readonly string[], edit: ListEdit): { next: string[]; requested: string[]; alreadyPresent: string[] } {
  if (edit.kind === 'replace') {
    const next = [...new Set(edit.actions.map(storedAuditOperation))];
    return { next, requested: next, alreadyPresent: [] };
  }
  const add = edit.add.filter((name) => name !== 'None').map(storedAuditOperation);
  const remove = new Set(edit.remove.map(storedAuditOperation));
  const next = [...new Set([...current, ...add])].filter((name) => !remove.has(name) || add.includes(name));
  return { next, requested: add, alreadyPresent: add.filter((name) => current.includes(name)) };
}

function setMailbox(ctx: ApiContext, req: SimRequest, bound: Bound): SimResponse {
  const tenant = ctx.tenant;
  const identity = stringParameter(bound, 'Identity');
  if (identity === undefined) throw bindingError('Cannot process command because of one or more missing mandatory parameters: Identity.');

  // Bind and validate everything before changing anything: a failed Set-Mailbox changes nothing.
  const auditEnabled = boolParameter(bound, 'AuditEnabled');
  let ageLimitSeconds: number | undefined;
  if (bound.has('AuditLogAgeLimit')) {
    const value = bound.get('AuditLogAgeLimit');
    ageLimitSeconds = typeof value === 'string' ? parseTimeSpan(value) : undefined;
    if (ageLimitSeconds === undefined) {
      throw conversionError('AuditLogAgeLimit', value, 'Microsoft.Exchange.Data.EnhancedTimeSpan', 'String was not recognized as a valid TimeSpan.');
    }
  }
  const defaultAuditSet = listParameter(bound, 'DefaultAuditSet', 'Microsoft.Exchange.Data.MultiValuedProperty`1[MailboxAuditLogonTypes]')?.map((name) => {
    const type = LOGON_TYPES.find((candidate) => candidate.toLowerCase() === name.toLowerCase());
    if (!type) {
      throw conversionError('DefaultAuditSet', name, 'Microsoft.Exchange.Data.Directory.Recipient.MailboxAuditLogonTypes', `Unable to match the identifier name ${name} to a valid enumerator name. Specify one of the following enumerator names and try again: Admin, Delegate, Owner`);
    }
    return type;
  });
  const edits = new Map<LogonType, ListEdit>();
  for (const logonType of LOGON_TYPES) {
    const parameter = AUDIT_PARAMETERS[logonType];
    if (bound.has(parameter)) edits.set(logonType, listEdit(parameter, bound.get(parameter)));
  }

  const mailbox = tenant.lookups.mailbox(identity);
  if (!mailbox) throw notFound(identity, tenant);

  const lists = new Map<LogonType, string[]>();
  for (const [logonType, edit] of edits) {
    const { next, requested, alreadyPresent } = applyEdit(mailbox.audit[logonType], edit);
    if (requested.includes(MESSAGE_BIND)) throw new CmdletFailure(EXCEPTIONS.recipientTask, MESSAGE_BIND_ERROR);
    const invalid = requested.find((action) => !VALID_ACTIONS[logonType].includes(action));
    if (invalid) {
      throw new CmdletFailure(
        EXCEPTIONS.validation,
        `The audit operation '${invalid}' isn't valid for the ${logonType} logon type (${AUDIT_PARAMETERS[logonType]}). Valid operations: ${VALID_ACTIONS[logonType].join(', ')}.`,
      );
    }
    // The licence error: per licence model (mutations.ts licenceRefuses), for actions this call adds.
    const added = next.filter((action) => !mailbox.audit[logonType].includes(action));
    if (added.some((action) => licenceRefuses(tenant, mailbox, action))) throw new CmdletFailure(EXCEPTIONS.validation, MIA_LICENCE_ERROR);
    if (alreadyPresent.length > 0 && alreadyAuditedResponse(tenant, mailbox) === 'error') {
      throw new CmdletFailure(EXCEPTIONS.recipientTask, ALREADY_AUDITED_ERROR);
    }
    lists.set(logonType, next);
  }

  const handled = new Set(['Identity', 'AuditEnabled', 'AuditLogAgeLimit', 'DefaultAuditSet', 'AuditOwner', 'AuditDelegate', 'AuditAdmin', 'WhatIf', 'Confirm', 'Force', ...COMMON_PARAMETERS]);
  // Parameters the simulator accepts but does not model (DisplayName, quotas, ...) count as changes.
  let changed = [...bound.keys()].some((name) => !handled.has(name));
  if (switchParameter(bound, 'WhatIf')) return answer(ctx, req, []);

  if (auditEnabled !== undefined) changed = setAuditEnabled(tenant, mailbox, auditEnabled) || changed;
  if (ageLimitSeconds !== undefined) changed = setAuditLogAgeLimit(tenant, mailbox, ageLimitSeconds) || changed;
  if (defaultAuditSet && defaultAuditSet.length > 0) changed = restoreDefaultAuditSet(tenant, mailbox, defaultAuditSet) || changed;
  for (const [logonType, list] of lists) changed = setAuditActions(tenant, mailbox, logonType, list) || changed;
  return answer(ctx, req, [], { warnings: changed ? [] : [noChangeWarning(mailbox.alias)] });
}

function noChangeWarning(identity: string): string {
  return `The command completed successfully but no settings of '${identity}' have been modified.`;
}

// ---------------------------------------------------------------------------------------------
// Set-MailboxAuditBypassAssociation, Set-OrganizationConfig

function setBypassAssociation(ctx: ApiContext, req: SimRequest, bound: Bound): SimResponse {
  const identity = stringParameter(bound, 'Identity');
  if (identity === undefined) throw bindingError('Cannot process command because of one or more missing mandatory parameters: Identity.');
  const enabled = boolParameter(bound, 'AuditBypassEnabled');
  const association: SimBypassAssociation | undefined = ctx.tenant.lookups.association(identity);
  if (!association) throw notFound(identity, ctx.tenant);
  if (switchParameter(bound, 'WhatIf')) return answer(ctx, req, []);
  const changed = enabled !== undefined && setAuditBypass(ctx.tenant, association, enabled);
  return answer(ctx, req, [], { warnings: changed ? [] : [noChangeWarning(association.identity)] });
}

function setOrganizationConfig(ctx: ApiContext, req: SimRequest, bound: Bound): SimResponse {
  const disabled = boolParameter(bound, 'AuditDisabled');
  const handled = new Set(['AuditDisabled', 'WhatIf', 'Confirm', ...COMMON_PARAMETERS]);
  let changed = [...bound.keys()].some((name) => !handled.has(name));
  if (switchParameter(bound, 'WhatIf')) return answer(ctx, req, []);
  if (disabled !== undefined) changed = setOrganizationAuditDisabled(ctx.tenant, disabled) || changed;
  return answer(ctx, req, [], { warnings: changed ? [] : [noChangeWarning(ctx.tenant.organization.identity)] });
}

// ---------------------------------------------------------------------------------------------
// Set-AdminAuditLogConfig: in Exchange Online only UnifiedAuditLogIngestionEnabled does anything;
// the on-premises parameters are not bound at all (exchange-cmdlets.json).

function setAdminAuditLogConfig(ctx: ApiContext, req: SimRequest, bound: Bound): SimResponse {
  const enabled = boolParameter(bound, 'UnifiedAuditLogIngestionEnabled');
  if (switchParameter(bound, 'WhatIf')) return answer(ctx, req, []);
  const changed = enabled !== undefined && setUnifiedAuditLogIngestion(ctx.tenant, enabled);
  return answer(ctx, req, [], { warnings: [changed ? INGESTION_CHANGE_WARNING : noChangeWarning(ADMIN_AUDIT_LOG_SETTINGS_NAME)] });
}
