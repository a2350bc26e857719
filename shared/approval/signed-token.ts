import { timingSafeEqual } from 'node:crypto';
import type { ApprovalSigningKey, SigningPurpose } from './signing-key';

/**
 * The compact token both approval links and confirmation forms carry:
 * `base64url(JSON payload) + "." + base64url(HMAC-SHA256(purpose key, JSON payload bytes))`.
 * Like a JWT without a header: the algorithm is fixed, so there is nothing for a forger to choose.
 */

/** Far above any token we mint (~250 characters); refusing early keeps hostile input cheap. */
const MAX_TOKEN_LENGTH = 2048;
const SIGNATURE_BYTES = 32;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export type SignedTokenFailure = 'malformed' | 'bad-signature';

export function encodeSignedToken(purpose: SigningPurpose, payload: object, key: ApprovalSigningKey): string {
  const bytes = Buffer.from(JSON.stringify(payload), 'utf8');
  return `${bytes.toString('base64url')}.${key.sign(purpose, bytes).toString('base64url')}`;
}

/**
 * The payload as `unknown` once the signature checks out; the caller parses it with its schema.
 * The signature is checked before the payload is even parsed, so unsigned content never
 * influences anything but the answer "bad-signature".
 */
export function decodeSignedToken(
  purpose: SigningPurpose,
  token: unknown,
  key: ApprovalSigningKey,
): { ok: true; payload: unknown } | { ok: false; reason: SignedTokenFailure } {
  if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) return malformed;
  const parts = token.split('.');
  if (parts.length !== 2) return malformed;
  const [payloadText, signatureText] = parts as [string, string];
  const payload = strictBase64url(payloadText);
  const signature = strictBase64url(signatureText);
  if (!payload || !signature || signature.length !== SIGNATURE_BYTES) return malformed;

  if (!timingSafeEqual(signature, key.sign(purpose, payload))) return { ok: false, reason: 'bad-signature' };
  try {
    return { ok: true, payload: JSON.parse(payload.toString('utf8')) as unknown };
  } catch {
    // Only reachable with a valid signature over non-JSON, i.e. never from our own signer.
    return malformed;
  }
}

const malformed = { ok: false, reason: 'malformed' } as const;

/**
 * Decodes only the canonical encoding. Node's decoder ignores stray characters and the unused
 * low bits of the last symbol, so without the round-trip check several spellings of one token
 * would all verify — harmless for the HMAC, but it makes "a changed token fails" untrue.
 */
function strictBase64url(text: string): Buffer | undefined {
  if (!BASE64URL.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.length > 0 && bytes.toString('base64url') === text ? bytes : undefined;
}
