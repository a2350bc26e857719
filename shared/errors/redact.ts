/**
 * The one redaction helper. Every message, log field or stored status that may carry upstream
 * text (an error body, a transport failure, a storage exception) passes through `redactSecrets`
 * before anyone can read it. Patterns cover the credentials that travel in text (bearer tokens,
 * Authorization headers, SAS signatures, storage account keys, secrets in URLs); `known` covers
 * the values we hold ourselves, which can be echoed back in any shape.
 */

export const REDACTED = '***';

export interface RedactOptions {
  /** Secrets we hold (the token we sent, a webhook URL and its parts): removed wherever they appear. */
  known?: Iterable<string | undefined>;
  /** Also drop every URL's query and fragment, for text that may echo a signed URL whose parameters we cannot list. */
  dropQueryStrings?: boolean;
}

/** Shorter "secrets" would redact ordinary words; real tokens, keys and signatures are far longer. */
const MIN_KNOWN_LENGTH = 8;

const TOKEN_CHARS = "[A-Za-z0-9\\-._~+/]+=*";

const PATTERNS: ReadonlyArray<[RegExp, (match: string, ...groups: string[]) => string]> = [
  // Authorization: <scheme> <credential>, as a header line or echoed in JSON ("authorization":"Bearer …").
  [
    /(\bauthorization["']?\s*[:=]\s*["']?)((?:bearer|basic|sharedkey(?:lite)?|sharedaccesssignature)\s+)?[^\s"',;]+/gi,
    (_match, name = '', scheme = '') => `${name}${scheme}${REDACTED}`,
  ],
  // A bearer credential anywhere. Prose such as "Bearer token is invalid" stays readable: a
  // credential is long, or has a digit or an inner separator (JWTs have dots).
  [
    new RegExp(`(\\bbearer\\s+)(${TOKEN_CHARS})`, 'gi'),
    (match, prefix = '', token = '') => (token.length >= 20 || /\d|[._~+/-]./.test(token) ? `${prefix}${REDACTED}` : match),
  ],
  // Storage connection strings: the account key, and the SAS or shared key they may carry.
  [/\b(AccountKey|SharedAccessKey|SharedAccessSignature)=[^;\s"']*/gi, (_match, name = '') => `${name}=${REDACTED}`],
  // A SAS signature (webhook URLs, storage SAS), in a URL or on its own.
  [/\bsig=[^&\s"'<>;)]+/gi, () => `sig=${REDACTED}`],
  // Secrets passed in a URL query or fragment, or a form body: OAuth client secrets and tokens, function keys.
  [
    /([?&#](?:client_secret|client_assertion|access_token|refresh_token|id_token|password|api[-_]?key|code)=)[^&\s"'<>]+/gi,
    (_match, name = '') => `${name}${REDACTED}`,
  ],
  // user:password@ in a URL.
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@"'<>]+:)[^\s/@"'<>]+@/gi, (_match, prefix = '') => `${prefix}${REDACTED}@`],
];

/** `text` with every secret it may hold replaced by "***". */
export function redactSecrets(text: string, options: RedactOptions = {}): string {
  let result = text;
  // Longest first, so a secret that contains another (a URL and its path) is replaced whole.
  const known = [...new Set(options.known ?? [])]
    .filter((secret): secret is string => secret !== undefined && secret.length >= MIN_KNOWN_LENGTH)
    .sort((a, b) => b.length - a.length);
  for (const secret of known) result = result.split(secret).join(REDACTED);
  if (options.dropQueryStrings) result = result.replace(/\b(https?:\/\/[^\s?#"'<>]*)[?#][^\s"'<>]*/gi, '$1?[query removed]');
  for (const [pattern, replace] of PATTERNS) result = result.replace(pattern, replace);
  return result;
}
