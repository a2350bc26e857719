/**
 * Helpers for putting upstream text into error messages: short, single-purpose, and never
 * carrying a secret we hold (a bearer token could be echoed back by a misbehaving proxy).
 */
export const REDACTED = '[redacted]';

export function redact(text: string, secrets: ReadonlyArray<string | undefined>): string {
  let result = text;
  for (const secret of secrets) {
    // Very short strings would redact ordinary words; real tokens are hundreds of characters.
    if (secret && secret.length >= 8) result = result.split(secret).join(REDACTED);
  }
  // A bearer credential we do not know about. The length floor keeps prose such as
  // "Bearer token is invalid" readable; real tokens are far longer.
  return result.replace(/(bearer\s+)[A-Za-z0-9\-._~+/]{20,}=*/gi, `$1${REDACTED}`);
}

export function truncate(text: string, max = 500): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max)}…`;
}

/**
 * The error's message plus the code of its cause, e.g. "fetch failed (ECONNREFUSED)". Duck-typed:
 * errors from fetch may come from another realm, where `instanceof Error` is false.
 */
export function describeFailure(error: unknown): string {
  if (error === null || typeof error !== 'object') return String(error);
  const { name, message, cause } = error as { name?: unknown; message?: unknown; cause?: unknown };
  if (name === 'TimeoutError') return 'the request timed out';
  const text = typeof message === 'string' && message !== '' ? message : String(error);
  const code =
    cause !== null && typeof cause === 'object' && 'code' in cause && typeof cause.code === 'string' ? cause.code : undefined;
  return code ? `${text} (${code})` : text;
}
