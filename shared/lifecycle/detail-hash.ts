import { createHash } from 'node:crypto';
import type { PolicyException } from '../config/policy';
import type { Finding } from '../domain/finding';

/** Short stable digest, for change detection and token fingerprints (not for security). */
export function digest(value: string, length = 32): string {
  return createHash('sha256').update(value).digest('hex').slice(0, length);
}

/** JSON with object keys sorted, so equal values hash equally whatever order they were built in. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(
      Object.keys(value as Record<string, unknown>)
        .sort()
        .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

/**
 * What a re-scan may change about an active finding without a transition: when this digest moves,
 * the details are rewritten (no event: nothing started or ended); when it does not, nothing is.
 */
export function detailHashOf(finding: Finding, exception?: PolicyException): string {
  return digest(
    canonicalJson({
      objectType: finding.objectType,
      upn: finding.userPrincipalName,
      severity: finding.severity,
      expected: finding.expected,
      actual: finding.actual,
      error: finding.error ?? null,
      exception: exception ? { reason: exception.reason, expires: exception.expires } : null,
    }),
  );
}
