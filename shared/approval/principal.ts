import { z } from 'zod';
import { ValidationError } from '../errors';
import { PrincipalError } from './errors';

/**
 * The approver, from the App Service authentication ("Easy Auth") headers.
 *
 * Trust: these headers are only evidence of identity when the app sits behind App Service
 * Authentication, which authenticates the caller, strips any client-sent `x-ms-client-principal*`
 * headers and injects its own. Anywhere else (a Functions host without Easy Auth, `func start`,
 * a proxy that forwards headers) anyone can send them, so the endpoint must only be deployed with
 * authentication required ("Return HTTP 401/302 for unauthenticated requests").
 */

export const PRINCIPAL_HEADERS = {
  principal: 'x-ms-client-principal',
  id: 'x-ms-client-principal-id',
  name: 'x-ms-client-principal-name',
  idp: 'x-ms-client-principal-idp',
} as const;

export interface ApprovalPrincipal {
  /** Entra object id (x-ms-client-principal-id), lower case. */
  id: string;
  /** Usually the UPN (x-ms-client-principal-name); lower case for comparison, as Entra treats UPNs. */
  name: string;
  /** Identity provider, lower case; `aad` for Microsoft Entra ID. */
  idp: string;
  /** Group object ids from the token's `groups` claims, lower case. */
  groups: string[];
  /**
   * True when Entra left the groups out because the user is in too many (the "overage"
   * `_claim_names` / `hasgroups` claims). Group-based approval then fails closed; list the UPN.
   */
  groupsOverage: boolean;
  /** The `tid` claim, when present. */
  tenantId?: string;
}

/** A fetch `Headers` (what `HttpRequest.headers` is) or a Node-style header record. */
export type HeaderSource =
  | { get(name: string): string | null }
  | Readonly<Record<string, string | readonly string[] | undefined>>;

export interface ParsePrincipalOptions {
  /** Providers whose users may approve (lower case). Default: Microsoft Entra ID only. */
  allowedIdentityProviders?: readonly string[];
}

/** A whole Entra token's claims fit in a few KB; anything far larger is not from Easy Auth. */
const MAX_PRINCIPAL_HEADER_LENGTH = 32 * 1024;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

const OBJECT_ID_CLAIMS = new Set(['http://schemas.microsoft.com/identity/claims/objectidentifier', 'oid']);
const TENANT_ID_CLAIMS = new Set(['http://schemas.microsoft.com/identity/claims/tenantid', 'tid']);
const GROUP_CLAIMS = new Set(['groups', 'http://schemas.microsoft.com/ws/2008/06/identity/claims/groups']);

/*
 * Deliberately narrow: fetch's Headers joins repeated headers with ", ", and a repeated identity
 * header means something between the caller and Easy Auth added one. No comma passes these.
 */
const idHeaderSchema = z.string().trim().regex(/^[A-Za-z0-9-]{1,128}$/);
const nameHeaderSchema = z.string().trim().regex(/^[^\s,\p{Cc}]{1,256}$/u);
const idpHeaderSchema = z.string().trim().regex(/^[A-Za-z0-9_.-]{1,64}$/);

/** The decoded x-ms-client-principal: App Service's own shape (not the Static Web Apps one). */
const clientPrincipalSchema = z.looseObject({
  auth_typ: z.string().optional(),
  name_typ: z.string().optional(),
  role_typ: z.string().optional(),
  claims: z
    .array(z.looseObject({ typ: z.string().max(512), val: z.string().max(8192) }))
    .max(5000),
});

export function parseClientPrincipal(headers: HeaderSource, options: ParsePrincipalOptions = {}): ApprovalPrincipal {
  const encoded = readHeader(headers, PRINCIPAL_HEADERS.principal);
  const idText = readHeader(headers, PRINCIPAL_HEADERS.id);
  const nameText = readHeader(headers, PRINCIPAL_HEADERS.name);
  const idpText = readHeader(headers, PRINCIPAL_HEADERS.idp);
  if (encoded === undefined && idText === undefined && nameText === undefined && idpText === undefined) {
    throw new PrincipalError('Sign-in required: the request carries no App Service authentication headers.', 'missing');
  }
  const present: Record<string, string | undefined> = {
    [PRINCIPAL_HEADERS.principal]: encoded,
    [PRINCIPAL_HEADERS.id]: idText,
    [PRINCIPAL_HEADERS.name]: nameText,
    [PRINCIPAL_HEADERS.idp]: idpText,
  };
  const missing = Object.keys(present).filter((name) => present[name] === undefined);
  if (missing.length > 0) {
    throw new PrincipalError(`Sign-in required: the authentication headers are incomplete (missing ${missing.join(', ')}).`, 'missing');
  }

  const id = idHeaderSchema.safeParse(idText);
  const name = nameHeaderSchema.safeParse(nameText);
  const idp = idpHeaderSchema.safeParse(idpText);
  if (!id.success || !name.success || !idp.success) {
    throw new PrincipalError('The authentication headers are not valid.', 'malformed');
  }
  const principal = decodeClientPrincipal(encoded as string);

  const claim = (types: ReadonlySet<string>) => principal.claims.filter((entry) => types.has(entry.typ)).map((entry) => entry.val.trim());
  const objectIds = claim(OBJECT_ID_CLAIMS);
  if (objectIds.some((value) => value.toLowerCase() !== id.data.toLowerCase())) {
    throw new PrincipalError('The authentication headers disagree about who is signed in.', 'malformed');
  }
  if (principal.name_typ !== undefined) {
    const names = principal.claims.filter((entry) => entry.typ === principal.name_typ).map((entry) => entry.val.trim().toLowerCase());
    if (names.length > 0 && !names.includes(name.data.toLowerCase())) {
      throw new PrincipalError('The authentication headers disagree about who is signed in.', 'malformed');
    }
  }

  const allowed = options.allowedIdentityProviders ?? ['aad'];
  const provider = idp.data.toLowerCase();
  if (!allowed.includes(provider)) {
    throw new PrincipalError('Approvals need a Microsoft Entra ID sign-in; this identity provider is not accepted.', 'identity-provider');
  }

  const groupsOverage = principal.claims.some(
    (entry) =>
      (entry.typ === 'hasgroups' && entry.val.toLowerCase() === 'true') ||
      (entry.typ === '_claim_names' && entry.val.includes('groups')),
  );
  const tenantId = claim(TENANT_ID_CLAIMS)[0];
  return {
    id: id.data.toLowerCase(),
    name: name.data.toLowerCase(),
    idp: provider,
    groups: [...new Set(claim(GROUP_CLAIMS).map((value) => value.toLowerCase()).filter((value) => value !== ''))],
    groupsOverage,
    ...(tenantId ? { tenantId: tenantId.toLowerCase() } : {}),
  };
}

function decodeClientPrincipal(encoded: string): z.infer<typeof clientPrincipalSchema> {
  const invalid = () => new PrincipalError('The x-ms-client-principal header is not valid.', 'malformed');
  if (encoded.length > MAX_PRINCIPAL_HEADER_LENGTH || !BASE64.test(encoded) || encoded.length % 4 !== 0) throw invalid();
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(encoded, 'base64')));
  } catch {
    throw invalid();
  }
  const parsed = clientPrincipalSchema.safeParse(json);
  if (!parsed.success) throw invalid();
  return parsed.data;
}

function readHeader(headers: HeaderSource, name: string): string | undefined {
  let value: string | readonly string[] | null | undefined;
  if (typeof headers.get === 'function') {
    value = (headers as { get(name: string): string | null }).get(name);
  } else {
    const record = headers as Readonly<Record<string, string | readonly string[] | undefined>>;
    const key = Object.keys(record).find((candidate) => candidate.toLowerCase() === name);
    value = key === undefined ? undefined : record[key];
  }
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') return value;
  // Two copies of an identity header mean something between the caller and Easy Auth added one.
  if (value.length === 1) return value[0];
  throw new PrincipalError(`The ${name} header appears more than once.`, 'malformed');
}

/** APPROVERS, parsed: who may decide. */
export interface ApproverList {
  /** User principal names, lower case. */
  upns: ReadonlySet<string>;
  /** Object ids (groups, or individual users), lower case. */
  objectIds: ReadonlySet<string>;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const UPN = /^[^\s@,]+@[^\s@,]+\.[^\s@,]+$/;

/**
 * APPROVERS is a comma (or semicolon) separated list of UPNs and object ids. An entry that is
 * neither is refused rather than ignored: a typo that silently dropped an approver would only
 * surface on the night someone needs to approve.
 */
export function parseApprovers(text: string | undefined, settingName = 'APPROVERS'): ApproverList {
  const upns = new Set<string>();
  const objectIds = new Set<string>();
  const problems: string[] = [];
  for (const entry of (text ?? '').split(/[,;]/).map((value) => value.trim()).filter((value) => value !== '')) {
    if (GUID.test(entry)) objectIds.add(entry.toLowerCase());
    else if (UPN.test(entry)) upns.add(entry.toLowerCase());
    else problems.push(`${settingName}: "${entry.slice(0, 80)}" is neither a user principal name nor an object id`);
  }
  if (problems.length > 0) {
    throw new ValidationError(`${settingName} has entries that are not user principal names or object ids.`, 'settings', problems);
  }
  return { upns, objectIds };
}

/**
 * True when the principal is named in APPROVERS by UPN (case-insensitive), or by object id —
 * of one of its groups, or its own. An empty list allows nobody: approvals then wait, which is
 * the safe failure.
 */
export function isAllowedApprover(principal: ApprovalPrincipal, approvers: ApproverList | string | undefined): boolean {
  const list = typeof approvers === 'object' ? approvers : parseApprovers(approvers);
  if (list.upns.has(principal.name.toLowerCase())) return true;
  if (list.objectIds.has(principal.id.toLowerCase())) return true;
  return principal.groups.some((group) => list.objectIds.has(group.toLowerCase()));
}
