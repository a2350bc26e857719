import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import {
  APPROVAL_LINK_TTL_MS,
  ApprovalSigningKey,
  issueApprovalFormToken,
  parsePublicBaseUrl,
  signApprovalLink,
  signApprovalLinks,
  verifyApprovalFormToken,
  verifyApprovalToken,
} from '../../../shared/approval';
import { ValidationError, describeError } from '../../../shared/errors';

const KEY_TEXT = randomBytes(32).toString('base64');
const key = ApprovalSigningKey.parse(KEY_TEXT);
const BASE = 'https://audit-warden.contoso.example';
const NOW = new Date('2026-06-01T02:00:00Z');
const REQUEST = 'req-000042';

function tokenOf(url: string): string {
  const token = new URL(url).searchParams.get('t');
  if (!token) throw new Error('no token in the link');
  return token;
}

function link(decision: 'approve' | 'reject' = 'approve', options: { expiresAt?: Date } = {}): string {
  return signApprovalLink({ requestId: REQUEST, decision, ...options }, key, BASE, NOW);
}

/** Re-signs nothing: swaps the payload and keeps the original signature, as a forger would. */
function withPayload(token: string, change: (payload: Record<string, unknown>) => void): string {
  const [payload, signature] = token.split('.') as [string, string];
  const decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  change(decoded);
  return `${Buffer.from(JSON.stringify(decoded)).toString('base64url')}.${signature}`;
}

describe('signApprovalLink', () => {
  it('builds ${PUBLIC_BASE_URL}/api/approvals/{id}?d=…&t=<payload>.<hmac>', () => {
    const url = new URL(link());
    expect(`${url.origin}${url.pathname}`).toBe(`${BASE}/api/approvals/${REQUEST}`);
    expect(url.searchParams.get('d')).toBe('approve');
    const [payload, signature] = tokenOf(url.href).split('.') as [string, string];
    expect(signature).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))).toEqual({
      requestId: REQUEST,
      decision: 'approve',
      expiresAt: new Date(NOW.getTime() + APPROVAL_LINK_TTL_MS).toISOString(),
      nonce: expect.stringMatching(/^[A-Za-z0-9_-]{16}$/),
    });
  });

  it('defaults to a 72-hour expiry and makes every link unique', () => {
    expect(APPROVAL_LINK_TTL_MS).toBe(72 * 3600 * 1000);
    expect(link()).not.toBe(link());
  });

  it('keeps a base path and drops a trailing slash', () => {
    const url = signApprovalLink({ requestId: REQUEST, decision: 'reject' }, key, 'https://example.org/warden/', NOW);
    expect(url.startsWith(`https://example.org/warden/api/approvals/${REQUEST}?d=reject&t=`)).toBe(true);
  });

  it('refuses ids that would need escaping, and expiries in the past', () => {
    expect(() => signApprovalLink({ requestId: '../x', decision: 'approve' }, key, BASE, NOW)).toThrow(ValidationError);
    expect(() => signApprovalLink({ requestId: REQUEST, decision: 'approve', expiresAt: NOW }, key, BASE, NOW)).toThrow(ValidationError);
  });

  it('signs both buttons with one expiry', () => {
    const links = signApprovalLinks(REQUEST, key, BASE, { now: NOW });
    expect(verifyApprovalToken(tokenOf(links.approveUrl), { requestId: REQUEST, decision: 'approve' }, key, NOW).ok).toBe(true);
    expect(verifyApprovalToken(tokenOf(links.rejectUrl), { requestId: REQUEST, decision: 'reject' }, key, NOW).ok).toBe(true);
    expect(links.expiresAt.getTime() - NOW.getTime()).toBe(APPROVAL_LINK_TTL_MS);
  });
});

describe('verifyApprovalToken', () => {
  const expected = { requestId: REQUEST, decision: 'approve' };

  it('accepts a link it signed, with the signed claims', () => {
    const result = verifyApprovalToken(tokenOf(link()), expected, key, NOW);
    expect(result).toEqual({ ok: true, claims: expect.objectContaining({ requestId: REQUEST, decision: 'approve' }) });
  });

  it('accepts the raw setting as the key', () => {
    expect(verifyApprovalToken(tokenOf(link()), expected, KEY_TEXT, NOW).ok).toBe(true);
  });

  it('refuses a tampered signature', () => {
    const token = tokenOf(link());
    const [payload, signature] = token.split('.') as [string, string];
    const flipped = `${signature[0] === 'A' ? 'B' : 'A'}${signature.slice(1)}`;
    expect(verifyApprovalToken(`${payload}.${flipped}`, expected, key, NOW)).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('refuses every single-character change anywhere in the token', () => {
    const token = tokenOf(link());
    const reasons = new Set<string>();
    for (let index = 0; index < token.length; index += 1) {
      if (token[index] === '.') continue;
      const replacement = token[index] === 'A' ? 'B' : 'A';
      const changed = `${token.slice(0, index)}${replacement}${token.slice(index + 1)}`;
      const result = verifyApprovalToken(changed, expected, key, NOW);
      expect(result.ok).toBe(false);
      if (!result.ok) reasons.add(result.reason);
    }
    expect([...reasons].every((reason) => reason === 'bad-signature' || reason === 'malformed')).toBe(true);
  });

  it('refuses a payload changed to the other decision, even with the old signature', () => {
    const forged = withPayload(tokenOf(link()), (payload) => {
      payload.decision = 'reject';
    });
    expect(verifyApprovalToken(forged, { requestId: REQUEST, decision: 'reject' }, key, NOW)).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('refuses a payload with a later expiry', () => {
    const forged = withPayload(tokenOf(link()), (payload) => {
      payload.expiresAt = '2099-01-01T00:00:00.000Z';
    });
    expect(verifyApprovalToken(forged, expected, key, NOW)).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('refuses a link whose d= was changed (decision mismatch)', () => {
    expect(verifyApprovalToken(tokenOf(link('approve')), { requestId: REQUEST, decision: 'reject' }, key, NOW)).toEqual({
      ok: false,
      reason: 'decision-mismatch',
    });
  });

  it('refuses a link used for another request', () => {
    expect(verifyApprovalToken(tokenOf(link()), { requestId: 'req-000043', decision: 'approve' }, key, NOW)).toEqual({
      ok: false,
      reason: 'request-mismatch',
    });
  });

  it('refuses an expired link, from the exact expiry on', () => {
    const expiresAt = new Date(NOW.getTime() + 60_000);
    const token = tokenOf(link('approve', { expiresAt }));
    expect(verifyApprovalToken(token, expected, key, new Date(expiresAt.getTime() - 1)).ok).toBe(true);
    expect(verifyApprovalToken(token, expected, key, expiresAt)).toEqual({ ok: false, reason: 'expired' });
    expect(verifyApprovalToken(tokenOf(link()), expected, key, new Date(NOW.getTime() + APPROVAL_LINK_TTL_MS + 1))).toEqual({
      ok: false,
      reason: 'expired',
    });
  });

  it('refuses a link signed with another key', () => {
    const other = ApprovalSigningKey.fromBytes(randomBytes(32));
    expect(verifyApprovalToken(tokenOf(link()), expected, other, NOW)).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it.each([
    ['empty', ''],
    ['no dot', 'abcdef'],
    ['three parts', 'a.b.c'],
    ['not base64url', 'a+b/.c=d'],
    ['empty signature', 'eyJ4IjoxfQ.'],
    ['short signature', 'eyJ4IjoxfQ.AAAA'],
    ['far too long', `${'A'.repeat(5000)}.${'A'.repeat(43)}`],
    ['a number', 42],
    ['undefined', undefined],
  ])('treats a malformed token (%s) as malformed', (_name, token) => {
    expect(verifyApprovalToken(token, expected, key, NOW)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('refuses a non-canonical spelling of a valid token', () => {
    const token = tokenOf(link());
    const [payload, signature] = token.split('.') as [string, string];
    // The 43rd symbol of a 32-byte signature carries 2 unused bits; Node would decode both spellings alike.
    const last = signature.at(-1) as string;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sibling = alphabet[alphabet.indexOf(last) ^ 1] as string;
    const respelled = `${payload}.${signature.slice(0, -1)}${sibling}`;
    expect(Buffer.from(respelled.split('.')[1] as string, 'base64url')).toEqual(Buffer.from(signature, 'base64url'));
    expect(verifyApprovalToken(respelled, expected, key, NOW)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('does not accept a confirmation-form token as a link token', () => {
    const formToken = issueApprovalFormToken({ requestId: REQUEST, decision: 'approve', approverId: 'abc' }, key, NOW);
    expect(verifyApprovalToken(formToken, expected, key, NOW)).toEqual({ ok: false, reason: 'bad-signature' });
  });
});

describe('approval form (anti-forgery) tokens', () => {
  const APPROVER = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
  const form = { requestId: REQUEST, decision: 'approve' as const, approverId: APPROVER };

  it('accepts the token from the same principal, request and decision', () => {
    const token = issueApprovalFormToken(form, key, NOW);
    expect(verifyApprovalFormToken(token, form, key, new Date(NOW.getTime() + 60_000)).ok).toBe(true);
    expect(verifyApprovalFormToken(token, { ...form, approverId: APPROVER.toUpperCase() }, key, NOW).ok).toBe(true);
  });

  it('is bound to the principal that loaded the page', () => {
    const token = issueApprovalFormToken(form, key, NOW);
    expect(verifyApprovalFormToken(token, { ...form, approverId: '11111111-2222-3333-4444-555555555555' }, key, NOW)).toEqual({
      ok: false,
      reason: 'principal-mismatch',
    });
  });

  it('is bound to the request and the decision', () => {
    const token = issueApprovalFormToken(form, key, NOW);
    expect(verifyApprovalFormToken(token, { ...form, decision: 'reject' }, key, NOW)).toEqual({ ok: false, reason: 'decision-mismatch' });
    expect(verifyApprovalFormToken(token, { ...form, requestId: 'req-1' }, key, NOW)).toEqual({ ok: false, reason: 'request-mismatch' });
  });

  it('expires after 15 minutes', () => {
    const token = issueApprovalFormToken(form, key, NOW);
    expect(verifyApprovalFormToken(token, form, key, new Date(NOW.getTime() + 15 * 60_000))).toEqual({ ok: false, reason: 'expired' });
  });

  it('is not accepted in place of a link token, nor a link token in its place', () => {
    const linkToken = tokenOf(link());
    expect(verifyApprovalFormToken(linkToken, form, key, NOW)).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('refuses tampering and garbage', () => {
    const token = issueApprovalFormToken(form, key, NOW);
    const forged = withPayload(token, (payload) => {
      payload.approverId = '11111111-2222-3333-4444-555555555555';
    });
    expect(verifyApprovalFormToken(forged, { ...form, approverId: '11111111-2222-3333-4444-555555555555' }, key, NOW)).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
    expect(verifyApprovalFormToken('nope', form, key, NOW)).toEqual({ ok: false, reason: 'malformed' });
  });
});

describe('ApprovalSigningKey', () => {
  it('accepts 32 random bytes as base64 (openssl rand -base64 32) and long raw text', () => {
    expect(() => ApprovalSigningKey.parse(randomBytes(32).toString('base64'))).not.toThrow();
    expect(() => ApprovalSigningKey.parse(randomBytes(32).toString('base64url'))).not.toThrow();
    expect(() => ApprovalSigningKey.parse('correct horse battery staple, with 40+ chars!')).not.toThrow();
  });

  it.each([
    ['missing', undefined],
    ['blank', '   '],
    ['16 bytes of base64', randomBytes(16).toString('base64')],
    ['short raw text', 'hunter2hunter2'],
    ['a placeholder', 'x'.repeat(64)],
    ['zero bytes in base64', 'A'.repeat(44)],
  ])('refuses a %s key, naming APPROVAL_SIGNING_KEY and never the value', (_name, value) => {
    let caught: unknown;
    try {
      ApprovalSigningKey.parse(value);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    const text = `${describeError(caught)}\n${(caught as Error).stack ?? ''}\n${JSON.stringify(caught)}`;
    expect(text).toContain('APPROVAL_SIGNING_KEY');
    if (value && value.trim()) expect(text).not.toContain(value.trim());
  });

  it('prints as [redacted] however it is printed', () => {
    for (const shown of [JSON.stringify({ key }), inspect({ key }, { showHidden: true, depth: 5 }), String(key), `${key}`]) {
      expect(shown).toContain('[redacted]');
      expect(shown).not.toContain(KEY_TEXT);
    }
  });
});

describe('parsePublicBaseUrl', () => {
  it('accepts https and loopback http', () => {
    expect(parsePublicBaseUrl('https://x.example/')).toBe('https://x.example');
    expect(parsePublicBaseUrl('http://127.0.0.1:7071')).toBe('http://127.0.0.1:7071');
    expect(parsePublicBaseUrl('http://localhost:7071/')).toBe('http://localhost:7071');
  });

  it.each(['http://audit-warden.example', 'ftp://x.example', 'https://x.example/?a=1', 'not a url', 'https://u:p@x.example'])(
    'refuses %s',
    (value) => {
      expect(() => parsePublicBaseUrl(value)).toThrow(ValidationError);
    },
  );
});
