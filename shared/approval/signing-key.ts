import { createHmac } from 'node:crypto';
import { inspect } from 'node:util';
import { ValidationError } from '../errors';

/** HMAC-SHA256 keys shorter than its block of output add nothing but guessability. */
export const MIN_SIGNING_KEY_BYTES = 32;

/**
 * What a signature is for. Each purpose signs with its own key derived from APPROVAL_SIGNING_KEY,
 * so a token minted for one purpose (a confirmation form) can never pass as another (a link).
 */
export type SigningPurpose = 'approval-link' | 'approval-form';
const PURPOSES: readonly SigningPurpose[] = ['approval-link', 'approval-form'];

const BASE64_TEXT = /^[A-Za-z0-9+/_-]+={0,2}$/;
/** A key drawn from so few symbols is a placeholder ("xxxx…"), not a secret. */
const MIN_DISTINCT_SYMBOLS = 10;

const REDACTED_KEY = 'ApprovalSigningKey [redacted]';

/**
 * APPROVAL_SIGNING_KEY, parsed once. Only the derived keys are kept, in a private field, and
 * every way of printing the object (JSON, util.inspect, String) shows "[redacted]", so a logger
 * that dumps a whole options object cannot leak it.
 */
export class ApprovalSigningKey {
  readonly #keys: ReadonlyMap<SigningPurpose, Buffer>;

  private constructor(material: Buffer) {
    this.#keys = new Map(
      PURPOSES.map((purpose) => [purpose, createHmac('sha256', material).update(`audit-warden/${purpose}/v1`).digest()]),
    );
  }

  /**
   * Accepts base64 (or base64url) that decodes to ≥ 32 bytes, e.g. `openssl rand -base64 32`, or
   * else raw text of ≥ 32 bytes. The messages name the setting and never the value.
   */
  static parse(raw: string | undefined, settingName = 'APPROVAL_SIGNING_KEY'): ApprovalSigningKey {
    const text = raw?.trim() ?? '';
    const advice = 'Generate one with: openssl rand -base64 32';
    if (text === '') {
      throw new ValidationError(`${settingName} is not set; approval links cannot be signed. ${advice}`, 'settings', [
        `${settingName}: required when approvals are enabled`,
      ]);
    }
    const material = keyMaterial(text);
    if (!material) {
      throw new ValidationError(
        `${settingName} is too short: it must hold at least ${MIN_SIGNING_KEY_BYTES} bytes (base64 or raw). ${advice}`,
        'settings',
        [`${settingName}: fewer than ${MIN_SIGNING_KEY_BYTES} bytes`],
      );
    }
    if (new Set(material).size < MIN_DISTINCT_SYMBOLS || new Set(text).size < MIN_DISTINCT_SYMBOLS) {
      throw new ValidationError(`${settingName} looks like a placeholder, not a random key. ${advice}`, 'settings', [
        `${settingName}: too few distinct symbols`,
      ]);
    }
    return new ApprovalSigningKey(material);
  }

  /** For tests and for callers that already hold random bytes. */
  static fromBytes(bytes: Uint8Array): ApprovalSigningKey {
    if (bytes.length < MIN_SIGNING_KEY_BYTES) {
      throw new ValidationError(`An approval signing key must be at least ${MIN_SIGNING_KEY_BYTES} bytes.`, 'signing key');
    }
    return new ApprovalSigningKey(Buffer.from(bytes));
  }

  /** HMAC-SHA256 of `data` under the key for `purpose`. */
  sign(purpose: SigningPurpose, data: Uint8Array): Buffer {
    const key = this.#keys.get(purpose);
    // Unreachable with the SigningPurpose type; kept so a widened type cannot sign with no key.
    if (!key) throw new RangeError(`No signing key for purpose ${purpose}`);
    return createHmac('sha256', key).update(data).digest();
  }

  toJSON(): string {
    return REDACTED_KEY;
  }

  toString(): string {
    return REDACTED_KEY;
  }

  [inspect.custom](): string {
    return REDACTED_KEY;
  }
}

/** Accepts an already-parsed key or the raw setting, so callers can pass settings straight through. */
export function toSigningKey(key: ApprovalSigningKey | string | undefined): ApprovalSigningKey {
  return key instanceof ApprovalSigningKey ? key : ApprovalSigningKey.parse(key);
}

function keyMaterial(text: string): Buffer | undefined {
  if (BASE64_TEXT.test(text)) {
    // Node decodes both alphabets; the pattern above has already refused anything else.
    const decoded = Buffer.from(text, 'base64');
    if (decoded.length >= MIN_SIGNING_KEY_BYTES) return decoded;
  }
  const raw = Buffer.from(text, 'utf8');
  return raw.length >= MIN_SIGNING_KEY_BYTES ? raw : undefined;
}
