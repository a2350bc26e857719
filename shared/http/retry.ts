/** How a client retries transient failures. All durations are milliseconds. */
export interface RetryPolicy {
  /** Retries after the first attempt; 0 disables retrying. */
  maxRetries: number;
  /** First backoff step when the server gives no Retry-After. */
  baseDelayMs: number;
  /** Ceiling for any single wait, including one asked for by Retry-After. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxRetries: 6, baseDelayMs: 1000, maxDelayMs: 120_000 };

export function resolveRetryPolicy(overrides: Partial<RetryPolicy> | undefined, defaults: RetryPolicy = DEFAULT_RETRY_POLICY): RetryPolicy {
  const policy = { ...defaults, ...definedOnly(overrides ?? {}) };
  for (const [name, value] of Object.entries(policy)) {
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`retry.${name} must be a non-negative number`);
  }
  return policy;
}

/**
 * Retry-After as milliseconds from `now`: either delta-seconds or an HTTP date (RFC 9110 §10.2.3).
 * Returns undefined when the header is absent or unreadable, so the caller falls back to backoff.
 */
export function parseRetryAfter(header: string | null | undefined, now: number = Date.now()): number | undefined {
  if (header === null || header === undefined) return undefined;
  const text = header.trim();
  if (text === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  // An HTTP date names its weekday and month; without letters, Date.parse would read "-5" as a year.
  const at = /[a-z]/i.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/**
 * Exponential backoff with "equal jitter": half of the step is fixed and half random. Keeping a
 * floor matters here because the per-tenant concurrency limit is shared by all our workers,
 * and a near-zero wait would just hit it again.
 *
 * @param retry 1 for the first retry.
 * @param random a source in [0, 1); injected so tests can assert exact delays.
 */
export function backoffDelay(retry: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.round(step / 2 + (step / 2) * random());
}

export const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
