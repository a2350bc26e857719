/**
 * The simulated Microsoft Graph v1.0: /users (with $select, $top, $filter, $count and
 * nextLink paging), /users/{id}, /users/{id}/licenseDetails, /users/{id}/assignLicense,
 * /users/{id}/reprocessLicenseAssignment, /groups/{id}, /groups/{id}/assignLicense,
 * /subscribedSkus and /organization — with Graph's OData error bodies and its advanced-query
 * rules (ConsistencyLevel: eventual + $count=true).
 */
import { z } from 'zod';
import { skuById } from './catalog';
import { compileFilter, FilterError } from './odata-filter';
import { assignGroupLicences, assignUserLicences, reprocessLicenceAssignment, type LicenceChange } from './mutations';
import { decodeSkipToken, encodeSkipToken, memberAt, nextLinkFor, type PagedQuery } from './paging';
import {
  DEFAULT_USER_PROPERTIES,
  filterView,
  licenseDetailsJson,
  resolveUserSelect,
  subscribedSkusJson,
  userJson,
} from './graph-view';
import { header, JSON_ODATA, type ApiContext, type SimRequest, type SimResponse } from './http-types';
import type { SimGroup, SimUser } from './tenant';

const MAX_TOP = 999;
const DEFAULT_TOP = 100;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function graphError(ctx: ApiContext, req: SimRequest, status: number, code: string, message: string, extraHeaders: Record<string, string> = {}): SimResponse {
  const body = {
    error: {
      code,
      message,
      innerError: {
        date: new Date(ctx.now()).toISOString().replace(/\.\d{3}Z$/, ''),
        'request-id': req.requestId,
        'client-request-id': header(req.headers, 'client-request-id') ?? req.requestId,
      },
    },
  };
  return { status, headers: { 'content-type': JSON_ODATA, ...extraHeaders }, body: JSON.stringify(body) };
}

function ok(status: number, body: unknown): SimResponse {
  return { status, headers: { 'content-type': JSON_ODATA }, body: JSON.stringify(body) };
}

export interface GraphResult {
  response: SimResponse;
  /** Route name for the stats, e.g. "GET /users/{id}". */
  route: string;
}

export function handleGraph(ctx: ApiContext, req: SimRequest): GraphResult {
  const segments = req.url.pathname
    .replace(/^\/v1\.0\/?/i, '')
    .split('/')
    .filter((segment) => segment !== '')
    .map((segment) => decodeURIComponent(segment));
  const [collection, id, action] = segments;
  const name = collection?.toLowerCase();
  const method = req.method.toUpperCase();
  const notAllowed = (route: string): GraphResult => ({
    route,
    response: graphError(ctx, req, 405, 'Request_BadRequest', 'Specified HTTP method is not allowed for the request target.'),
  });

  if (name === 'users' && segments.length === 1) return method === 'GET' ? { route: 'GET /users', response: listUsers(ctx, req) } : notAllowed('/users');
  if (name === 'users' && id !== undefined && segments.length === 2) {
    return method === 'GET' ? { route: 'GET /users/{id}', response: getUser(ctx, req, id) } : notAllowed('/users/{id}');
  }
  if (name === 'users' && id !== undefined && segments.length === 3 && action?.toLowerCase() === 'assignlicense') {
    return method === 'POST' ? { route: 'POST /users/{id}/assignLicense', response: assignLicense(ctx, req, id) } : notAllowed('/users/{id}/assignLicense');
  }
  if (name === 'users' && id !== undefined && segments.length === 3 && action?.toLowerCase() === 'reprocesslicenseassignment') {
    return method === 'POST'
      ? { route: 'POST /users/{id}/reprocessLicenseAssignment', response: reprocessLicenseAssignment(ctx, req, id) }
      : notAllowed('/users/{id}/reprocessLicenseAssignment');
  }
  if (name === 'users' && id !== undefined && segments.length === 3 && action?.toLowerCase() === 'licensedetails') {
    return method === 'GET' ? { route: 'GET /users/{id}/licenseDetails', response: licenseDetails(ctx, req, id) } : notAllowed('/users/{id}/licenseDetails');
  }
  if (name === 'groups' && id !== undefined && segments.length === 2) {
    return method === 'GET' ? { route: 'GET /groups/{id}', response: getGroup(ctx, req, id) } : notAllowed('/groups/{id}');
  }
  if (name === 'groups' && id !== undefined && segments.length === 3 && action?.toLowerCase() === 'assignlicense') {
    return method === 'POST' ? { route: 'POST /groups/{id}/assignLicense', response: assignGroupLicense(ctx, req, id) } : notAllowed('/groups/{id}/assignLicense');
  }
  if (name === 'subscribedskus' && segments.length === 1) {
    return method === 'GET'
      ? { route: 'GET /subscribedSkus', response: ok(200, { '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#subscribedSkus`, value: subscribedSkusJson(ctx.tenant) }) }
      : notAllowed('/subscribedSkus');
  }
  if (name === 'organization' && segments.length === 1) {
    return method === 'GET' ? { route: 'GET /organization', response: organization(ctx) } : notAllowed('/organization');
  }
  const unknown = segments[segments.length - 1] ?? '';
  return { route: 'unknown', response: graphError(ctx, req, 400, 'BadRequest', `Resource not found for the segment '${unknown}'.`) };
}

// ---------------------------------------------------------------------------------------------
// /users

interface QueryOptions {
  select?: string;
  top?: string;
  filter?: string;
  count?: string;
  skiptoken?: string;
  unsupported?: string;
}

/** Graph v1.0 accepts query options with or without the `$`. */
function readQueryOptions(url: URL): QueryOptions {
  const options: QueryOptions = {};
  for (const [rawKey, value] of url.searchParams) {
    const key = rawKey.replace(/^\$/, '').toLowerCase();
    switch (key) {
      case 'select':
      case 'top':
      case 'filter':
      case 'count':
      case 'skiptoken':
        options[key] ??= value;
        break;
      case 'orderby':
      case 'search':
      case 'expand':
      case 'skip':
        options.unsupported ??= `$${key}`;
        break;
      default:
        if (rawKey.startsWith('$')) options.unsupported ??= rawKey;
    }
  }
  return options;
}

function selectFor(ctx: ApiContext, req: SimRequest, select: string | undefined): { properties: readonly string[] } | { error: SimResponse } {
  if (select === undefined) return { properties: DEFAULT_USER_PROPERTIES };
  const resolved = resolveUserSelect(select);
  if ('unknown' in resolved) {
    return { error: graphError(ctx, req, 400, 'BadRequest', `Could not find a property named '${resolved.unknown}' on type 'microsoft.graph.user'.`) };
  }
  return { properties: resolved.properties.length > 0 ? resolved.properties : DEFAULT_USER_PROPERTIES };
}

function listUsers(ctx: ApiContext, req: SimRequest): SimResponse {
  const options = readQueryOptions(req.url);
  if (options.unsupported) {
    return graphError(ctx, req, 400, 'Request_UnsupportedQuery', `The query option '${options.unsupported}' is not supported by the simulated tenant.`);
  }
  const selected = selectFor(ctx, req, options.select);
  if ('error' in selected) return selected.error;

  let top = DEFAULT_TOP;
  if (options.top !== undefined) {
    top = /^\d+$/.test(options.top) ? Number(options.top) : NaN;
    if (!(top >= 1 && top <= MAX_TOP)) {
      return graphError(ctx, req, 400, 'Request_UnsupportedQuery', `Invalid page size specified: '${options.top}'. Must be between 1 and ${MAX_TOP} inclusive.`);
    }
  }
  const countText = options.count?.toLowerCase();
  if (countText !== undefined && countText !== 'true' && countText !== 'false') {
    return graphError(ctx, req, 400, 'BadRequest', `Invalid value '${options.count}' for $count; expected true or false.`);
  }
  const count = countText === 'true';
  const eventual = header(req.headers, 'consistencylevel')?.toLowerCase() === 'eventual';

  let filter: ReturnType<typeof compileFilter> | undefined;
  if (options.filter !== undefined) {
    try {
      filter = compileFilter(options.filter);
    } catch (error) {
      if (error instanceof FilterError) return graphError(ctx, req, 400, error.code, error.message);
      throw error;
    }
    // Graph evaluates these only as advanced queries: both the header and $count=true are needed.
    const advanced = filter.advancedProperties[0];
    if (advanced !== undefined && !(eventual && count)) {
      return graphError(ctx, req, 400, 'Request_UnsupportedQuery', `Unsupported or invalid query filter clause specified for property '${advanced}' of resource 'User'.`);
    }
  }
  if (count && !eventual) return graphError(ctx, req, 400, 'Request_BadRequest', '$count is not currently supported.');

  const tenant = ctx.tenant;
  let query: PagedQuery<unknown>;
  let queryId: string | undefined;
  let offset = 0;
  if (options.skiptoken !== undefined) {
    const token = decodeSkipToken(options.skiptoken);
    const stored = token && ctx.graphQueries.get(token.queryId);
    if (!token || !stored) {
      return graphError(ctx, req, 400, 'Directory_ExpiredPageToken', 'The specified page token value has expired and can no longer be included in your request.');
    }
    query = stored;
    queryId = token.queryId;
    offset = token.offset;
  } else if (filter) {
    // The one O(n) step of a query: resolve its members now, page through them later.
    const matches = new Uint32Array(tenant.users.length);
    let found = 0;
    for (const user of tenant.users) if (filter.test(filterView(user, tenant))) matches[found++] = user.index;
    query = { indices: matches.slice(0, found), total: found, context: undefined };
  } else {
    query = { indices: null, total: tenant.users.length, context: undefined };
  }

  const end = Math.min(offset + top, query.total);
  const value = [];
  for (let position = offset; position < end; position++) {
    const user = tenant.users[memberAt(query, position)];
    if (user) value.push(userJson(user, tenant, selected.properties));
  }
  const body: Record<string, unknown> = {
    '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#users${options.select !== undefined ? `(${selected.properties.join(',')})` : ''}`,
  };
  if (count) body['@odata.count'] = query.total;
  if (end < query.total) {
    queryId ??= ctx.graphQueries.add(query);
    body['@odata.nextLink'] = nextLinkFor(ctx.baseUrl, req.url, encodeSkipToken(queryId, end));
  }
  body.value = value;
  return ok(200, body);
}

function findUser(ctx: ApiContext, req: SimRequest, id: string): SimUser | SimResponse {
  const user = ctx.tenant.lookups.user(id);
  if (user) return user;
  return graphError(ctx, req, 404, 'Request_ResourceNotFound', `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`);
}

function getUser(ctx: ApiContext, req: SimRequest, id: string): SimResponse {
  const options = readQueryOptions(req.url);
  const selected = selectFor(ctx, req, options.select);
  if ('error' in selected) return selected.error;
  const user = findUser(ctx, req, id);
  if ('status' in user) return user;
  const context = `${ctx.baseUrl}/v1.0/$metadata#users${options.select !== undefined ? `(${selected.properties.join(',')})` : ''}/$entity`;
  return ok(200, { '@odata.context': context, ...userJson(user, ctx.tenant, selected.properties) });
}

function licenseDetails(ctx: ApiContext, req: SimRequest, id: string): SimResponse {
  const user = findUser(ctx, req, id);
  if ('status' in user) return user;
  return ok(200, { '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#users('${user.id}')/licenseDetails`, value: licenseDetailsJson(user) });
}

function organization(ctx: ApiContext): SimResponse {
  const tenant = ctx.tenant;
  return ok(200, {
    '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#organization`,
    value: [
      {
        id: tenant.tenantId,
        displayName: tenant.organization.displayName,
        verifiedDomains: [{ capabilities: 'Email, OfficeCommunicationsOnline', isDefault: true, isInitial: true, name: tenant.domain, type: 'Managed' }],
      },
    ],
  });
}

// ---------------------------------------------------------------------------------------------
// assignLicense

const licenceChangeSchema = z.object({
  addLicenses: z.array(z.object({ skuId: z.string().regex(GUID), disabledPlans: z.array(z.string().regex(GUID)).nullish() })),
  removeLicenses: z.array(z.string().regex(GUID)),
});

function parseLicenceChange(ctx: ApiContext, req: SimRequest, resource: 'User' | 'Group'): LicenceChange | SimResponse {
  let json: unknown;
  try {
    json = JSON.parse(req.body);
  } catch {
    return graphError(ctx, req, 400, 'BadRequest', 'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.');
  }
  const parsed = licenceChangeSchema.safeParse(json);
  if (!parsed.success) {
    const property = parsed.error.issues[0]?.path[0] ?? 'addLicenses';
    return graphError(ctx, req, 400, 'Request_BadRequest', `Invalid value specified for property '${String(property)}' of resource '${resource}'.`);
  }
  const change: LicenceChange = {
    addLicenses: parsed.data.addLicenses.map((licence) => ({ skuId: licence.skuId.toLowerCase(), disabledPlans: (licence.disabledPlans ?? []).map((id) => id.toLowerCase()) })),
    removeLicenses: parsed.data.removeLicenses.map((id) => id.toLowerCase()),
  };
  for (const skuId of [...change.addLicenses.map((l) => l.skuId), ...change.removeLicenses]) {
    if (!skuById(skuId)) return graphError(ctx, req, 400, 'Request_BadRequest', `License ${skuId} does not correspond to a valid company License.`);
  }
  for (const licence of change.addLicenses) {
    const plans = skuById(licence.skuId)?.servicePlans ?? [];
    const unknownPlan = licence.disabledPlans.find((id) => !plans.some((plan) => plan.servicePlanId === id));
    if (unknownPlan) return graphError(ctx, req, 400, 'Request_BadRequest', `Invalid disabled plan ${unknownPlan} for license ${licence.skuId}.`);
    if (change.removeLicenses.includes(licence.skuId)) {
      return graphError(ctx, req, 400, 'Request_BadRequest', `License ${licence.skuId} cannot be both added and removed.`);
    }
  }
  return change;
}

/** The body as received: parsed JSON, or the raw text when it is not JSON. */
function receivedBody(req: SimRequest): unknown {
  try {
    return JSON.parse(req.body) as unknown;
  } catch {
    return req.body;
  }
}

function assignLicense(ctx: ApiContext, req: SimRequest, id: string): SimResponse {
  const user = findUser(ctx, req, id);
  ctx.received.assignLicense.push({ userId: 'status' in user ? id : user.id, body: receivedBody(req) });
  if ('status' in user) return user;
  const change = parseLicenceChange(ctx, req, 'User');
  if ('status' in change) return change;
  const tenant = ctx.tenant;
  if (change.addLicenses.length > 0 && user.usageLocation === null) {
    return graphError(ctx, req, 400, 'Request_BadRequest', 'License assignment cannot be done for user with invalid usage location.');
  }
  for (const skuId of change.removeLicenses) {
    const assignments = user.licences.filter((licence) => licence.skuId === skuId);
    if (assignments.length === 0) return graphError(ctx, req, 400, 'Request_BadRequest', 'User does not have a corresponding license.');
    if (assignments.every((licence) => licence.assignedByGroup !== null)) {
      return graphError(ctx, req, 400, 'Request_BadRequest', 'User license is inherited from a group membership and it cannot be removed directly from the user.');
    }
  }
  for (const licence of change.addLicenses) {
    const units = tenant.skuUnits.get(licence.skuId);
    const alreadyConsumed = user.licences.some((existing) => existing.skuId === licence.skuId);
    if (units && !alreadyConsumed && units.consumed >= units.enabled) {
      const part = skuById(licence.skuId)?.skuPartNumber ?? licence.skuId;
      return graphError(ctx, req, 400, 'Request_BadRequest', `Subscription for the license ${part} does not have enough available units.`);
    }
  }
  assignUserLicences(tenant, user, change);
  return ok(200, { '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#users/$entity`, ...userJson(user, tenant, DEFAULT_USER_PROPERTIES) });
}

/**
 * POST /users/{id}/reprocessLicenseAssignment: no body; 200 + the user. Re-runs the user's group
 * assignments: changes no plan, and clears the group-licensing failure for the seeded half of the
 * failures (SimUser.reprocessRepairs).
 */
function reprocessLicenseAssignment(ctx: ApiContext, req: SimRequest, id: string): SimResponse {
  const user = findUser(ctx, req, id);
  ctx.received.reprocessLicenseAssignment.push({ userId: 'status' in user ? id : user.id });
  if ('status' in user) return user;
  reprocessLicenceAssignment(ctx.tenant, user);
  return ok(200, { '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#users/$entity`, ...userJson(user, ctx.tenant, DEFAULT_USER_PROPERTIES) });
}

// ---------------------------------------------------------------------------------------------
// /groups/{id}: the group side of group-based licensing (the documented toggle fix)

function findGroup(ctx: ApiContext, req: SimRequest, id: string): SimGroup | SimResponse {
  const group = ctx.tenant.groups.find((candidate) => candidate.id === id.toLowerCase());
  if (group) return group;
  return graphError(ctx, req, 404, 'Request_ResourceNotFound', `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`);
}

function groupJson(ctx: ApiContext, group: SimGroup): Record<string, unknown> {
  return {
    '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#groups/$entity`,
    id: group.id,
    displayName: group.displayName,
    securityEnabled: true,
    mailEnabled: false,
    assignedLicenses: group.licences.map((licence) => ({ disabledPlans: [...licence.disabledPlans], skuId: licence.skuId })),
  };
}

function getGroup(ctx: ApiContext, req: SimRequest, id: string): SimResponse {
  const group = findGroup(ctx, req, id);
  if ('status' in group) return group;
  return ok(200, groupJson(ctx, group));
}

function assignGroupLicense(ctx: ApiContext, req: SimRequest, id: string): SimResponse {
  const group = findGroup(ctx, req, id);
  ctx.received.groupAssignLicense.push({ groupId: 'status' in group ? id : group.id, body: receivedBody(req) });
  if ('status' in group) return group;
  const change = parseLicenceChange(ctx, req, 'Group');
  if ('status' in change) return change;
  for (const skuId of change.removeLicenses) {
    if (!group.licences.some((licence) => licence.skuId === skuId)) {
      return graphError(ctx, req, 400, 'Request_BadRequest', 'Group does not have a corresponding license.');
    }
  }
  assignGroupLicences(ctx.tenant, group, change);
  // Graph accepts group licence changes and applies them to members in the background.
  return ok(202, groupJson(ctx, group));
}

