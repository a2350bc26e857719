import { APPROVAL_ROUTE_PREFIX } from '../shared/approval/links';
import { APPROVAL_FORM_FIELDS } from '../shared/approval/page';
import { PRINCIPAL_HEADERS } from '../shared/approval/principal';
import { ValidationError } from '../shared/errors';

/**
 * A client of the approval endpoint that does what an approver's browser does: open the link from
 * the card (GET: the confirmation page), then submit the page's form (POST). The demo approves a
 * request "through the real endpoints" with it, and the tests drive `audit-warden serve` with it.
 *
 * The principal headers it sends are the ones App Service Authentication would inject after a
 * sign-in. Only a server that trusts them without Easy Auth in front (`audit-warden serve
 * --trust-principal-headers`, local demos) accepts them; behind Easy Auth they are replaced.
 */

export interface LocalPrincipal {
  /** Entra object id. */
  id: string;
  /** User principal name. */
  name: string;
  groups?: string[];
  tenantId?: string;
  /** Identity provider (default aad). */
  idp?: string;
}

const CLAIM = {
  name: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name',
  upn: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn',
  objectId: 'http://schemas.microsoft.com/identity/claims/objectidentifier',
  tenantId: 'http://schemas.microsoft.com/identity/claims/tenantid',
  role: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role',
} as const;

/** The four headers App Service Authentication sets for a signed-in Entra user (its own claim layout). */
export function principalHeaders(principal: LocalPrincipal): Record<string, string> {
  const claims = [
    { typ: CLAIM.name, val: principal.name },
    { typ: CLAIM.upn, val: principal.name },
    { typ: CLAIM.objectId, val: principal.id },
    ...(principal.tenantId ? [{ typ: CLAIM.tenantId, val: principal.tenantId }] : []),
    ...(principal.groups ?? []).map((group) => ({ typ: 'groups', val: group })),
  ];
  const body = { auth_typ: 'aad', name_typ: CLAIM.name, role_typ: CLAIM.role, claims };
  return {
    [PRINCIPAL_HEADERS.principal]: Buffer.from(JSON.stringify(body), 'utf8').toString('base64'),
    [PRINCIPAL_HEADERS.id]: principal.id,
    [PRINCIPAL_HEADERS.name]: principal.name,
    [PRINCIPAL_HEADERS.idp]: principal.idp ?? 'aad',
  };
}

export interface EndpointDecisionOptions {
  /** The signed link from the card or the dashboard (its Approve or Reject URL). */
  link: string;
  /**
   * Where the endpoint listens, when that is not the link's own origin (PUBLIC_BASE_URL names the
   * public address; a local server may listen elsewhere). The link's path and query are kept.
   */
  baseUrl?: string;
  /** Sent as Easy Auth headers on both requests; omit to act as a signed-out browser. */
  principal?: LocalPrincipal;
  /** A rejection's reason (the form requires one). */
  reason?: string;
  fetch?: typeof fetch;
}

export interface EndpointDecisionResult {
  /** The GET's status: 200 when the confirmation page was shown. */
  confirmStatus: number;
  /** The POST's status (200 decided, 409 already decided, …); the GET's when there was no form to post. */
  status: number;
  /** True when the POST recorded the decision. */
  decided: boolean;
  /** The last page's HTML. */
  page: string;
}

/** GET the link, read the form from the confirmation page, POST it. */
export async function decideThroughEndpoint(options: EndpointDecisionOptions): Promise<EndpointDecisionResult> {
  const fetchImpl = options.fetch ?? fetch;
  const url = rebase(options.link, options.baseUrl);
  const identity = options.principal ? principalHeaders(options.principal) : {};
  const confirm = await fetchImpl(url, { method: 'GET', headers: identity, redirect: 'manual' });
  const confirmPage = await confirm.text();
  const form = confirm.status === 200 ? readForm(confirmPage) : undefined;
  if (!form) return { confirmStatus: confirm.status, status: confirm.status, decided: false, page: confirmPage };

  const fields = new URLSearchParams(form.fields);
  if (options.reason !== undefined) fields.set(APPROVAL_FORM_FIELDS.reason, options.reason);
  const response = await fetchImpl(new URL(form.action, url), {
    method: 'POST',
    headers: { ...identity, 'content-type': 'application/x-www-form-urlencoded' },
    body: fields.toString(),
    redirect: 'manual',
  });
  return { confirmStatus: confirm.status, status: response.status, decided: response.status === 200, page: await response.text() };
}

/** What the demo calls: approve one request through the real GET + POST. */
export async function approveThroughEndpoint(options: {
  approveUrl: string;
  principal: LocalPrincipal;
  baseUrl?: string;
  fetch?: typeof fetch;
}): Promise<EndpointDecisionResult> {
  return decideThroughEndpoint({
    link: options.approveUrl,
    principal: options.principal,
    ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
}

/** The confirmation page's form: its action and hidden fields (the page is ours, so its markup is known). */
export function readForm(page: string): { action: string; fields: Record<string, string> } | undefined {
  const action = /<form method="post" action="([^"]*)">/.exec(page)?.[1];
  if (action === undefined) return undefined;
  const fields: Record<string, string> = {};
  for (const match of page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    fields[unescape(match[1] ?? '')] = unescape(match[2] ?? '');
  }
  return { action: unescape(action), fields };
}

function rebase(link: string, baseUrl: string | undefined): string {
  if (baseUrl === undefined) return link;
  const url = new URL(link);
  const at = url.pathname.indexOf(APPROVAL_ROUTE_PREFIX);
  if (at < 0) throw new ValidationError('The link is not an approval link (no /api/approvals/ in its path).', 'approval link');
  return `${baseUrl.replace(/\/+$/, '')}${url.pathname.slice(at)}${url.search}`;
}

function unescape(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39);/g, (_, name: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[name] ?? '');
}
