/**
 * Access tokens for the simulated APIs: JWT-shaped (header.payload.signature, base64url), signed
 * with HMAC-SHA256 by a per-server key, so a token from another simulator run — or a hand-made
 * one — fails as a forged token fails against Microsoft's cloud.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const GRAPH_RESOURCE = 'https://graph.microsoft.com';
export const EXCHANGE_RESOURCE = 'https://outlook.office365.com';
/** App ids Entra also accepts as audiences for the two resources. */
export const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
export const EXCHANGE_APP_ID = '00000002-0000-0ff1-ce00-000000000000';

export interface TokenClaims {
  aud: string;
  iss: string;
  tid: string;
  oid: string;
  sub: string;
  appid: string;
  idtyp: 'app';
  roles: string[];
  iat: number;
  nbf: number;
  exp: number;
  ver: '1.0';
}

export type TokenFailure = 'malformed' | 'signature' | 'expired' | 'not-yet-valid' | 'audience' | 'tenant';

export type TokenCheck = { ok: true; claims: TokenClaims } | { ok: false; reason: TokenFailure; claims?: TokenClaims };

const ROLES: Record<string, string[]> = {
  [GRAPH_RESOURCE]: ['User.Read.All', 'Organization.Read.All', 'LicenseAssignment.ReadWrite.All'],
  [EXCHANGE_RESOURCE]: ['Exchange.ManageAsApp'],
};

/** "https://graph.microsoft.com/.default", ".../" and "...": the same resource. */
export function normaliseResource(resource: string): string {
  return resource.trim().replace(/\/\.default$/i, '').replace(/\/+$/, '');
}

const base64url = (value: Buffer | string): string => Buffer.from(value).toString('base64url');

export interface TokenServiceOptions {
  signingKey: Buffer;
  tenantId: string;
  /** The managed identity's ids (client id = app id for a system-assigned identity). */
  principalId: string;
  clientId: string;
  now: () => number;
  lifetimeSeconds: number;
}

export class TokenService {
  constructor(private readonly options: TokenServiceOptions) {}

  get clientId(): string {
    return this.options.clientId;
  }

  issue(resource: string, overrides: { lifetimeSeconds?: number; tenantId?: string; notBeforeSeconds?: number } = {}): { token: string; expiresOn: number } {
    const now = Math.floor(this.options.now() / 1000);
    const aud = normaliseResource(resource);
    const tid = overrides.tenantId ?? this.options.tenantId;
    const exp = now + (overrides.lifetimeSeconds ?? this.options.lifetimeSeconds);
    const claims: TokenClaims = {
      aud,
      iss: `https://sts.windows.net/${tid}/`,
      tid,
      oid: this.options.principalId,
      sub: this.options.principalId,
      appid: this.options.clientId,
      idtyp: 'app',
      roles: ROLES[aud.toLowerCase()] ?? [],
      iat: now,
      nbf: now + (overrides.notBeforeSeconds ?? 0),
      exp,
      ver: '1.0',
    };
    const header = base64url(JSON.stringify({ typ: 'JWT', alg: 'HS256', kid: 'audit-warden-sim' }));
    const payload = base64url(JSON.stringify(claims));
    return { token: `${header}.${payload}.${this.sign(`${header}.${payload}`)}`, expiresOn: exp };
  }

  /** Checks signature, lifetime, tenant and audience; `audiences` are normalised resources or app ids. */
  verify(token: string, audiences: readonly string[]): TokenCheck {
    const parts = token.split('.');
    if (parts.length !== 3) return { ok: false, reason: 'malformed' };
    const [header, payload, signature] = parts as [string, string, string];
    let claims: TokenClaims;
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as TokenClaims;
      if (typeof claims !== 'object' || claims === null) return { ok: false, reason: 'malformed' };
    } catch {
      return { ok: false, reason: 'malformed' };
    }
    const expected = Buffer.from(this.sign(`${header}.${payload}`));
    const actual = Buffer.from(signature);
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return { ok: false, reason: 'signature', claims };
    const now = Math.floor(this.options.now() / 1000);
    if (typeof claims.exp !== 'number' || claims.exp <= now) return { ok: false, reason: 'expired', claims };
    if (typeof claims.nbf === 'number' && claims.nbf > now + 300) return { ok: false, reason: 'not-yet-valid', claims };
    if (claims.tid !== this.options.tenantId) return { ok: false, reason: 'tenant', claims };
    const audience = normaliseResource(String(claims.aud)).toLowerCase();
    if (!audiences.some((accepted) => normaliseResource(accepted).toLowerCase() === audience)) return { ok: false, reason: 'audience', claims };
    return { ok: true, claims };
  }

  private sign(data: string): string {
    return createHmac('sha256', this.options.signingKey).update(data).digest('base64url');
  }
}
