import { ValidationError } from '../errors';

/**
 * TEAMS_WEBHOOK_URL, checked without ever repeating it: https (plain http only on loopback, for
 * the local receiver), no credentials, and not a retired Office 365 connector URL.
 */
export function parseTeamsWebhookUrl(value: string | undefined, settingName = 'TEAMS_WEBHOOK_URL'): string {
  const text = value?.trim() ?? '';
  if (text === '') throw new ValidationError(`${settingName} is not set.`, 'settings', [`${settingName}: required to post to Teams`]);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // No cause: Node's URL error carries the input, which is the secret.
    throw new ValidationError(`${settingName} is not an absolute URL.`, 'settings', [`${settingName}: not a URL`]);
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new ValidationError(`${settingName} must be an https URL.`, 'settings', [`${settingName}: not https`]);
  }
  if (url.username !== '' || url.password !== '') {
    throw new ValidationError(`${settingName} must not contain credentials.`, 'settings', [`${settingName}: has user info`]);
  }
  if (/(^|\.)webhook\.office\.com$/i.test(url.hostname) || /\/webhookb2\//i.test(url.pathname)) {
    throw new ValidationError(
      `${settingName} is an Office 365 connector URL; those stopped working in May 2026. ` +
        'Create a Workflows webhook ("When a Teams webhook request is received") and use its URL.',
      'settings',
      [`${settingName}: retired Office 365 connector`],
    );
  }
  return url.href;
}

/** Everything of the URL that could let someone post: the whole URL, its path, and each query value. */
export function webhookSecrets(url: URL, asConfigured: string): string[] {
  // The configured spelling too: URL normalises it (drops :443, re-encodes), but an upstream echo would not.
  const secrets = [asConfigured, url.href, `${url.origin}${url.pathname}`, url.pathname, url.search.slice(1)];
  for (const [, value] of url.searchParams) secrets.push(value, encodeURIComponent(value));
  return [...new Set(secrets.filter((secret) => secret !== '/'))];
}
