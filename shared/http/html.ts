import { createHash } from 'node:crypto';

/**
 * Headers for a server-rendered page whose only unescaped text is its own constant stylesheet:
 * the CSP lets exactly that stylesheet (by hash) through and nothing else — no scripts, no
 * external resources, no framing, no referrer leaking the signed link in the URL.
 */
export function strictHtmlHeaders(style: string, formAction: "'self'" | "'none'"): Readonly<Record<string, string>> {
  const styleHash = `sha256-${createHash('sha256').update(style).digest('base64')}`;
  return Object.freeze({
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Security-Policy': `default-src 'none'; style-src '${styleHash}'; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`,
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
  });
}
