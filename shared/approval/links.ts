import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { formatZodIssues } from '../config/zod-format';
import { ValidationError } from '../errors';
import { decodeSignedToken, encodeSignedToken } from './signed-token';
import { type ApprovalSigningKey, toSigningKey } from './signing-key';

/**
 * Signed approval links (the Approve / Reject buttons of the Teams card) and the anti-forgery
 * token of the confirmation page they open.
 *
 * A link proves that Audit Warden offered this decision on this request until its expiry; it does
 * not say who clicked it (links are forwarded, and scanners such as Safe Links fetch them). So a
 * link only ever opens a confirmation page, and the deciding POST must also carry a form token
 * that binds the decision to the signed-in approver. Single use is the approvals table's job
 * (ETag), not the token's.
 */

export const APPROVAL_DECISIONS = ['approve', 'reject'] as const;
export type ApprovalDecision = (typeof APPROVAL_DECISIONS)[number];

/** How long a link in a nightly card stays usable: a long weekend. */
export const APPROVAL_LINK_TTL_MS = 72 * 60 * 60 * 1000;
/** How long a confirmation page may sit open before its POST is refused. */
export const APPROVAL_FORM_TTL_MS = 15 * 60 * 1000;

/** The HTTP route of the approval endpoint, relative to PUBLIC_BASE_URL. */
export const APPROVAL_ROUTE_PREFIX = '/api/approvals/';
/** Query parameters of a link. */
export const APPROVAL_LINK_QUERY = { decision: 'd', token: 't' } as const;

/** Ids end up in a URL path and a table key: keep them to characters that need no escaping. */
export const approvalRequestIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._~-]{0,127}$/, 'an approval request id is 1–128 characters of A–Z, a–z, 0–9, ".", "_", "~", "-"');

export const approvalDecisionSchema = z.enum(APPROVAL_DECISIONS);

/** What a link's token carries. */
export interface ApprovalLinkClaims {
  requestId: string;
  decision: ApprovalDecision;
  /** ISO 8601 (UTC): readable by whoever decodes a link during an investigation. */
  expiresAt: string;
  /** Makes every link unique, so two links are never the same string even for the same request. */
  nonce?: string;
}

const linkClaimsSchema = z.strictObject({
  requestId: approvalRequestIdSchema,
  decision: approvalDecisionSchema,
  expiresAt: z.iso.datetime(),
  nonce: z.string().max(64).optional(),
});

export interface ApprovalFormClaims {
  requestId: string;
  decision: ApprovalDecision;
  /** The principal's object id (x-ms-client-principal-id), lower case. */
  approverId: string;
  expiresAt: string;
}

const formClaimsSchema = z.strictObject({
  requestId: approvalRequestIdSchema,
  decision: approvalDecisionSchema,
  approverId: z.string().min(1).max(128),
  expiresAt: z.iso.datetime(),
});

export type ApprovalTokenFailure = 'malformed' | 'bad-signature' | 'request-mismatch' | 'decision-mismatch' | 'expired';
export type ApprovalFormTokenFailure = ApprovalTokenFailure | 'principal-mismatch';

export type ApprovalTokenResult = { ok: true; claims: ApprovalLinkClaims } | { ok: false; reason: ApprovalTokenFailure };
export type ApprovalFormTokenResult =
  | { ok: true; claims: ApprovalFormClaims }
  | { ok: false; reason: ApprovalFormTokenFailure };

export interface ApprovalLinkRequest {
  requestId: string;
  decision: ApprovalDecision;
  /** Defaults to `now` + 72 hours. */
  expiresAt?: Date;
  /** Defaults to 12 random bytes; tests pass one to get the same link twice. */
  nonce?: string;
}

const linkRequestSchema = z.object({
  requestId: approvalRequestIdSchema,
  decision: approvalDecisionSchema,
  expiresAt: z.date().optional(),
  nonce: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).optional(),
});

/**
 * `${PUBLIC_BASE_URL}/api/approvals/{requestId}?d=approve&t=<token>`.
 *
 * @param publicBaseUrl https, or http on a loopback host (the local demo): the token travels in
 *   the query string, so plain HTTP anywhere else would hand it to the network.
 */
export function signApprovalLink(
  link: ApprovalLinkRequest,
  key: ApprovalSigningKey | string,
  publicBaseUrl: string,
  now: Date = new Date(),
): string {
  const parsed = parseInput(linkRequestSchema, link, 'approval link');
  const expiresAt = parsed.expiresAt ?? new Date(now.getTime() + APPROVAL_LINK_TTL_MS);
  if (!(expiresAt.getTime() > now.getTime())) {
    throw new ValidationError('An approval link must expire after the time it is signed.', 'approval link');
  }
  const claims: ApprovalLinkClaims = {
    requestId: parsed.requestId,
    decision: parsed.decision,
    expiresAt: expiresAt.toISOString(),
    nonce: parsed.nonce ?? randomBytes(12).toString('base64url'),
  };
  const token = encodeSignedToken('approval-link', claims, toSigningKey(key));
  const query = new URLSearchParams({ [APPROVAL_LINK_QUERY.decision]: claims.decision, [APPROVAL_LINK_QUERY.token]: token });
  return `${parsePublicBaseUrl(publicBaseUrl)}${approvalPath(claims.requestId)}?${query.toString()}`;
}

/** Both buttons for one request, with one expiry. */
export function signApprovalLinks(
  requestId: string,
  key: ApprovalSigningKey | string,
  publicBaseUrl: string,
  options: { now?: Date; expiresAt?: Date } = {},
): { approveUrl: string; rejectUrl: string; expiresAt: Date } {
  const now = options.now ?? new Date();
  const expiresAt = options.expiresAt ?? new Date(now.getTime() + APPROVAL_LINK_TTL_MS);
  const signingKey = toSigningKey(key);
  return {
    approveUrl: signApprovalLink({ requestId, decision: 'approve', expiresAt }, signingKey, publicBaseUrl, now),
    rejectUrl: signApprovalLink({ requestId, decision: 'reject', expiresAt }, signingKey, publicBaseUrl, now),
    expiresAt,
  };
}

/**
 * Checks a link token against the request id from the route and the decision from `d`.
 * The signature is checked first; the other checks only ever see signed content.
 */
export function verifyApprovalToken(
  token: unknown,
  expected: { requestId: string; decision: string },
  key: ApprovalSigningKey | string,
  now: Date = new Date(),
): ApprovalTokenResult {
  const decoded = decodeSignedToken('approval-link', token, toSigningKey(key));
  if (!decoded.ok) return decoded;
  const claims = linkClaimsSchema.safeParse(decoded.payload);
  if (!claims.success) return { ok: false, reason: 'malformed' };
  if (claims.data.requestId !== expected.requestId) return { ok: false, reason: 'request-mismatch' };
  if (claims.data.decision !== expected.decision) return { ok: false, reason: 'decision-mismatch' };
  if (isExpired(claims.data.expiresAt, now)) return { ok: false, reason: 'expired' };
  return { ok: true, claims: claims.data };
}

/**
 * The anti-forgery token a confirmation page (GET) embeds in its form. The POST is accepted only
 * with this token, from the same principal, for the same request and decision, within minutes.
 * That stops a third-party page from POSTing a decision with the approver's session cookie, and a
 * page fetched by one user from being submitted under another's identity.
 */
export function issueApprovalFormToken(
  form: { requestId: string; decision: ApprovalDecision; approverId: string },
  key: ApprovalSigningKey | string,
  now: Date = new Date(),
  ttlMs: number = APPROVAL_FORM_TTL_MS,
): string {
  const claims: ApprovalFormClaims = parseInput(
    formClaimsSchema,
    {
      requestId: form.requestId,
      decision: form.decision,
      approverId: form.approverId.toLowerCase(),
      expiresAt: new Date(now.getTime() + ttlMs).toISOString(),
    },
    'approval form',
  );
  return encodeSignedToken('approval-form', claims, toSigningKey(key));
}

export function verifyApprovalFormToken(
  token: unknown,
  expected: { requestId: string; decision: string; approverId: string },
  key: ApprovalSigningKey | string,
  now: Date = new Date(),
): ApprovalFormTokenResult {
  const decoded = decodeSignedToken('approval-form', token, toSigningKey(key));
  if (!decoded.ok) return decoded;
  const claims = formClaimsSchema.safeParse(decoded.payload);
  if (!claims.success) return { ok: false, reason: 'malformed' };
  if (claims.data.requestId !== expected.requestId) return { ok: false, reason: 'request-mismatch' };
  if (claims.data.decision !== expected.decision) return { ok: false, reason: 'decision-mismatch' };
  if (claims.data.approverId !== expected.approverId.toLowerCase()) return { ok: false, reason: 'principal-mismatch' };
  if (isExpired(claims.data.expiresAt, now)) return { ok: false, reason: 'expired' };
  return { ok: true, claims: claims.data };
}

/** `/api/approvals/{requestId}`: the form's action, and the path part of every link. */
export function approvalPath(requestId: string): string {
  return `${APPROVAL_ROUTE_PREFIX}${encodeURIComponent(parseInput(approvalRequestIdSchema, requestId, 'approval request id'))}`;
}

/** PUBLIC_BASE_URL without a trailing slash; refuses plain HTTP except on loopback. */
export function parsePublicBaseUrl(value: string | undefined, settingName = 'PUBLIC_BASE_URL'): string {
  let url: URL;
  try {
    url = new URL(value ?? '');
  } catch {
    throw new ValidationError(`${settingName} must be an absolute URL such as https://audit-warden.example.com.`, 'settings', [
      `${settingName}: not an absolute URL`,
    ]);
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new ValidationError(`${settingName} must use https (plain http is accepted only for localhost).`, 'settings', [
      `${settingName}: scheme ${url.protocol.replace(':', '')} not allowed`,
    ]);
  }
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new ValidationError(`${settingName} must not carry a query, fragment or credentials.`, 'settings', [
      `${settingName}: only scheme, host, port and path are allowed`,
    ]);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

function isExpired(expiresAt: string, now: Date): boolean {
  return now.getTime() >= Date.parse(expiresAt);
}

function parseInput<T>(schema: z.ZodType<T>, value: unknown, source: string): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new ValidationError(`The ${source} is not valid.`, source, formatZodIssues(result.error));
  return result.data;
}
