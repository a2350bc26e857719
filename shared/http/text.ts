/** Helpers for putting upstream text into error messages: short, and saying what went wrong. */
import { textOf } from '../text';

export function truncate(text: string, max = 500): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max)}…`;
}

/**
 * The error's message plus its system code, e.g. "connect ECONNREFUSED 127.0.0.1:443 (ECONNREFUSED)".
 * The code is read from the error (Node, RestError) or its cause (fetch). Duck-typed: errors may
 * come from another realm, where `instanceof Error` is false.
 */
export function describeFailure(error: unknown): string {
  if (error === null || typeof error !== 'object') return textOf(error);
  const { name, message } = error as { name?: unknown; message?: unknown };
  if (name === 'TimeoutError') return 'the request timed out';
  const text = typeof message === 'string' && message !== '' ? message : textOf(error);
  const code = failureCode(error);
  return code && !text.includes(`(${code})`) ? `${text} (${code})` : text;
}

/** The system error code (ECONNREFUSED, ENOTFOUND, …) of a failure or of its cause. */
export function failureCode(error: unknown): string | undefined {
  for (let current = error, depth = 0; current !== null && typeof current === 'object' && depth < 3; depth += 1) {
    const { code, cause } = current as { code?: unknown; cause?: unknown };
    if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) return code;
    current = cause;
  }
  return undefined;
}
