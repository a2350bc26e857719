import { odata } from '@azure/data-tables';
import { ruleIdAliases, type RuleId } from '../domain/finding';
import { ValidationError } from '../errors';

/**
 * Key encoding and the key layout shared by the repositories.
 *
 * PartitionKey and RowKey may not contain / \ # ? or control characters, and values that reach
 * URLs (point reads put keys in the path) or continuation-token headers are safest in plain
 * ASCII. So every part taken from outside (tenant ids, object ids, UPNs, scan ids) is encoded:
 * characters outside [A-Za-z0-9._@:-] become `~XX` per UTF-8 byte. `|` and `~` are therefore
 * never produced by the encoder, which makes `|` a safe separator between parts.
 */
const SAFE = /^[A-Za-z0-9._@:-]$/;

export function encodeKeyPart(value: string): string {
  let out = '';
  for (const char of value) {
    if (SAFE.test(char)) {
      out += char;
      continue;
    }
    for (const byte of Buffer.from(char, 'utf8')) out += `~${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export function decodeKeyPart(encoded: string): string {
  const bytes: number[] = [];
  for (let index = 0; index < encoded.length; ) {
    if (encoded[index] === '~') {
      bytes.push(parseInt(encoded.slice(index + 1, index + 3), 16));
      index += 3;
    } else {
      bytes.push(encoded.charCodeAt(index));
      index += 1;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Keys are limited to 1 KiB; we refuse rather than truncate, since a truncated key could collide. */
export function checkKeyLength(key: string, what: string): string {
  if (key.length > 1000) throw new ValidationError(`${what} is too long to be stored as a table key.`, 'store');
  return key;
}

/** Object ids (Entra GUIDs, association GUIDs, the org identity) are case-insensitive: keys use lower case. */
export function objectKey(objectId: string): string {
  return encodeKeyPart(objectId.toLowerCase());
}

/**
 * 1,024 buckets per tenant. Partitions are the unit of batching (an entity-group transaction is one
 * partition), so rows about one object share its bucket's partition and a night's writes batch
 * many objects to a transaction instead of one request per mailbox. Why not fewer, larger
 * partitions: a partition is also what every insert is checked against — Azure serves ~2,000
 * entities/s per partition, and Azurite scans the whole partition for each upsert, which at 64
 * buckets made a first scan of 100,000 mailboxes take over 15 minutes. 1,024 keeps a partition at
 * ~100 mailboxes per 100,000 (~1,000 events at 1,000,000).
 */
export const BUCKETS = 1024;

export function bucketOf(value: string): string {
  // FNV-1a: stable across processes and versions (unlike a language hash), cheap for 100k ids.
  let hash = 0x811c9dc5;
  const text = value.toLowerCase();
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return ((hash >>> 0) % BUCKETS).toString(16).padStart(3, '0');
}

export function tenantKey(tenantId: string): string {
  return encodeKeyPart(tenantId.toLowerCase());
}

export function bucketPartition(tenantId: string, bucket: string): string {
  return `${tenantKey(tenantId)}|${bucket}`;
}

/** All bucket partitions of a tenant lie in [low, high): `|` (0x7C) is followed by `}` (0x7D). */
export function tenantPartitionRange(tenantId: string): { low: string; high: string } {
  const tenant = tenantKey(tenantId);
  return { low: `${tenant}|`, high: `${tenant}}` };
}

/** The exclusive upper bound of every key that starts with `prefix` (keys are ASCII). */
export function prefixEnd(prefix: string): string {
  return `${prefix}~~`;
}

/**
 * Newest-first ordering: RowKeys sort ascending, so time is stored inverted. 16 digits cover every
 * JavaScript date (max 8.64e15 ms), so the strings compare like the numbers.
 */
const MAX_TIME = 8_640_000_000_000_000;

export function invertedTime(date: Date): string {
  return (MAX_TIME - date.getTime()).toString().padStart(16, '0');
}

export function fromInvertedTime(inverted: string): Date {
  return new Date(MAX_TIME - Number(inverted));
}

/**
 * Hours, newest first: 9,999,999 minus the hours since 1970, as 7 digits (until the year 3110;
 * earlier and later instants are clamped so the strings keep comparing like the numbers). Timeline
 * partitions are hours, so a range of PartitionKeys is a range of hours read newest first.
 */
const MAX_HOUR = 9_999_999;

export function invertedHour(date: Date): string {
  const hours = Math.min(MAX_HOUR, Math.max(0, Math.floor(date.getTime() / 3_600_000)));
  return String(MAX_HOUR - hours).padStart(7, '0');
}

/** UTC month `yyyymm`: drift events are kept in one timeline table per month. */
export function monthOf(date: Date): string {
  return `${date.getUTCFullYear()}${String(date.getUTCMonth() + 1).padStart(2, '0')}`;
}

export function previousMonth(month: string): string {
  const year = Number(month.slice(0, 4));
  const index = Number(month.slice(4, 6));
  return index === 1 ? `${year - 1}12` : `${year}${String(index - 1).padStart(2, '0')}`;
}

/** Change detection compares these digests (a finding's details, a mailbox's configuration). */
export { canonicalJson, digest } from '../lifecycle/detail-hash';

/**
 * `(ruleId eq 'a' or ruleId eq 'b')` for a rule and its earlier ids, so rows stored before a rename
 * match a filter by the current id. Values go through the odata tag.
 */
export function ruleIdFilter(ruleId: RuleId): string {
  return `(${ruleIdAliases(ruleId).map((id) => odata`ruleId eq ${id}`).join(' or ')})`;
}
