import { inspect } from 'node:util';
import { ServiceError, ValidationError } from '../errors';
import {
  type RetryPolicy,
  backoffDelay,
  defaultSleep,
  describeFailure,
  parseRetryAfter,
  redact,
  resolveRetryPolicy,
  truncate,
} from '../http';
import { type Logger, silentLogger } from '../logging';
import type { AdaptiveCard, TeamsWebhookPayload } from './card-types';
import { TEAMS_MESSAGE_LIMIT_BYTES, serializePayload, toWebhookPayload } from './payload';

/**
 * Posts cards to a Teams channel through a Workflows webhook ("When a Teams webhook request is
 * received"). The webhook URL is a secret: its `sig=` query parameter is a SAS signature that lets
 * anyone post to the channel. The sender keeps it in a private field and never puts it, its path
 * or its query into a message, a log line or an error; logs name the host only.
 */

/** Teams' documented limits per webhook per channel. */
export interface RateWindow {
  limit: number;
  windowMs: number;
}

export const TEAMS_WEBHOOK_RATE_LIMITS: readonly RateWindow[] = Object.freeze([
  { limit: 4, windowMs: 1_000 },
  { limit: 60, windowMs: 30_000 },
  { limit: 100, windowMs: 60 * 60_000 },
  { limit: 150, windowMs: 2 * 60 * 60_000 },
  { limit: 1_800, windowMs: 24 * 60 * 60_000 },
]);

/**
 * Client-side limiter over sliding windows. A token bucket would allow a full burst plus a full
 * refill inside one window (up to twice "60 per 30 s"); keeping the send times of the last
 * `limit` requests per window cannot overshoot. Slots are reserved when asked for, so concurrent
 * senders in one process queue behind each other instead of all waking at the same instant.
 *
 * It counts this process only; other instances posting to the same webhook are covered by
 * honouring Teams' 429.
 */
export class WebhookRateLimiter {
  /** Reserved send times, ascending (a reservation is never earlier than the one before it). */
  private readonly stamps: number[] = [];
  private readonly windows: readonly RateWindow[];
  private readonly longestWindowMs: number;

  constructor(
    windows: readonly RateWindow[] = TEAMS_WEBHOOK_RATE_LIMITS,
    private readonly now: () => number = Date.now,
  ) {
    for (const window of windows) {
      if (!Number.isInteger(window.limit) || window.limit < 1 || !(window.windowMs > 0)) {
        throw new RangeError('A rate window needs a positive integer limit and a positive duration.');
      }
    }
    this.windows = windows;
    this.longestWindowMs = Math.max(0, ...windows.map((window) => window.windowMs));
  }

  /**
   * Reserves the earliest slot that keeps every window under its limit and returns how long to
   * wait for it (0 = now). Returns undefined, reserving nothing, if the wait would exceed `maxWaitMs`.
   */
  reserve(maxWaitMs: number = Number.POSITIVE_INFINITY): number | undefined {
    const now = this.now();
    while (this.stamps.length > 0 && (this.stamps[0] as number) <= now - this.longestWindowMs) this.stamps.shift();
    let at = Math.max(now, this.stamps.at(-1) ?? now);
    for (const { limit, windowMs } of this.windows) {
      // The limit-th most recent send must have left the window before the next one goes out.
      const oldestCounted = this.stamps[this.stamps.length - limit];
      if (oldestCounted !== undefined) at = Math.max(at, oldestCounted + windowMs);
    }
    const wait = at - now;
    if (wait > maxWaitMs) return undefined;
    this.stamps.push(at);
    return wait;
  }
}

export type TeamsWebhookFailure =
  /** Over Teams' ~28 KB message limit ("Request entity too large"); retrying cannot help. */
  | 'too-large'
  /** Teams kept answering 429 after every retry. */
  | 'throttled'
  /** Our own limiter: the next free slot is further away than the sender may wait. */
  | 'rate-limited'
  /** Any other non-2xx answer. */
  | 'rejected'
  /** No answer: connection failed or timed out. */
  | 'unreachable';

export class TeamsWebhookError extends ServiceError {
  override readonly name = 'TeamsWebhookError';
  constructor(
    message: string,
    readonly reason: TeamsWebhookFailure,
    statusCode?: number,
    options?: { transient?: boolean },
  ) {
    super(message, 'teams', statusCode, reason, options);
  }
}

export interface TeamsWebhookSenderOptions {
  /** TEAMS_WEBHOOK_URL (secret). */
  webhookUrl: string;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  /** Clock for the rate limiter and Retry-After dates (ms since epoch). */
  now?: () => number;
  /** Jitter source in [0, 1). */
  random?: () => number;
  retry?: Partial<RetryPolicy>;
  logger?: Logger;
  /** Share one limiter between senders for the same webhook in one process. */
  rateLimiter?: WebhookRateLimiter;
  /** Longest wait for a rate-limit slot before failing with 'rate-limited' (default 60 s). */
  maxQueueWaitMs?: number;
  requestTimeoutMs?: number;
}

export interface TeamsPostResult {
  status: number;
  /** HTTP attempts, including retries. */
  attempts: number;
  /** Size of the posted body. */
  bytes: number;
}

/** Teams asks for exponential backoff on 429; a handful of tries spans a couple of minutes. */
const DEFAULT_RETRY: RetryPolicy = { maxRetries: 5, baseDelayMs: 1_000, maxDelayMs: 60_000 };
const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_QUEUE_WAIT_MS = 60_000;
const TOO_LARGE_TEXT = /request entity too large/i;
/** Failures where the request never reached the server, so retrying cannot post twice. */
const NOT_DELIVERED = /\b(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH)\b/;

export class TeamsWebhookSender {
  readonly #url: string;
  readonly #secrets: string[];
  private readonly host: string;
  private readonly fetchImpl: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly retry: RetryPolicy;
  private readonly logger: Logger;
  private readonly limiter: WebhookRateLimiter;
  private readonly maxQueueWaitMs: number;
  private readonly timeoutMs: number;

  constructor(options: TeamsWebhookSenderOptions) {
    this.#url = parseTeamsWebhookUrl(options.webhookUrl);
    const url = new URL(this.#url);
    this.host = url.host;
    this.#secrets = webhookSecrets(url, options.webhookUrl.trim());
    this.fetchImpl = options.fetch ?? fetch;
    this.sleep = options.sleep ?? defaultSleep;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    const overrides = Object.entries(options.retry ?? {}).filter(([, value]) => value !== undefined);
    this.retry = resolveRetryPolicy({ ...DEFAULT_RETRY, ...Object.fromEntries(overrides) });
    this.logger = options.logger ?? silentLogger;
    this.limiter = options.rateLimiter ?? new WebhookRateLimiter(TEAMS_WEBHOOK_RATE_LIMITS, this.now);
    this.maxQueueWaitMs = options.maxQueueWaitMs ?? DEFAULT_MAX_QUEUE_WAIT_MS;
    this.timeoutMs = options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** Wraps the card as a webhook message and posts it. */
  async send(card: AdaptiveCard, fields: Record<string, unknown> = {}): Promise<TeamsPostResult> {
    return await this.sendPayload(toWebhookPayload(card), fields);
  }

  /**
   * Posts one message. Retries only what cannot have posted twice: 429 (honouring Retry-After)
   * and connections that never opened. A 5xx or a timeout may have reached the channel, so it is
   * thrown (marked transient) for the caller to decide.
   *
   * @param fields ids for the log lines (tenant, scan); never a secret.
   */
  async sendPayload(payload: TeamsWebhookPayload, fields: Record<string, unknown> = {}): Promise<TeamsPostResult> {
    const body = serializePayload(payload);
    const bytes = Buffer.byteLength(body, 'utf8');
    if (bytes > TEAMS_MESSAGE_LIMIT_BYTES) throw tooLarge(bytes);
    const logFields = { ...fields, webhookHost: this.host, bytes };

    for (let attempt = 1; ; attempt += 1) {
      const slotWait = this.limiter.reserve(this.maxQueueWaitMs);
      if (slotWait === undefined) {
        throw new TeamsWebhookError(
          'Not posting to the Teams webhook: its rate limits (Teams allows 4 per second, 60 per 30 s, 100 per hour, ' +
            `1,800 per day) leave no free slot within ${Math.round(this.maxQueueWaitMs / 1000)} s. Try again later.`,
          'rate-limited',
          undefined,
          { transient: true },
        );
      }
      if (slotWait > 0) await this.sleep(slotWait);

      const outcome = await this.attempt(body, bytes);
      if (outcome.ok) {
        this.logger.info('Posted a card to the Teams channel.', { ...logFields, status: outcome.status, attempts: attempt });
        return { status: outcome.status, attempts: attempt, bytes };
      }
      if (!outcome.retryable || attempt > this.retry.maxRetries) throw outcome.error;

      const delayMs = Math.min(this.retry.maxDelayMs, outcome.retryAfterMs ?? backoffDelay(attempt, this.retry, this.random));
      this.logger.warn(
        outcome.status === 429 ? 'Teams throttled the webhook (429); retrying.' : 'Could not reach the Teams webhook; retrying.',
        { ...logFields, status: outcome.status, attempt, delayMs },
      );
      await this.sleep(delayMs);
    }
  }

  private async attempt(
    body: string,
    bytes: number,
  ): Promise<
    | { ok: true; status: number }
    | { ok: false; error: TeamsWebhookError; retryable: boolean; status?: number; retryAfterMs?: number }
  > {
    let response: Response;
    try {
      response = await this.fetchImpl(this.#url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
        redirect: 'error',
      });
    } catch (error) {
      const cause = this.clean(describeFailure(error));
      const undelivered = NOT_DELIVERED.test(cause);
      return {
        ok: false,
        retryable: undelivered,
        error: new TeamsWebhookError(`Could not reach the Teams webhook at ${this.host}: ${cause}.`, 'unreachable', undefined, {
          transient: true,
        }),
      };
    }

    const text = await readSome(response);
    if (response.ok) return { ok: true, status: response.status };
    const detail = this.clean(truncate(text, 300));
    const suffix = detail ? `: ${detail}` : '.';
    if (response.status === 413 || TOO_LARGE_TEXT.test(text)) return { ok: false, retryable: false, error: tooLarge(bytes, response.status) };
    if (response.status === 429) {
      return {
        ok: false,
        retryable: true,
        status: 429,
        retryAfterMs: parseRetryAfter(response.headers.get('retry-after'), this.now()),
        error: new TeamsWebhookError(
          `Teams kept throttling the webhook at ${this.host} (HTTP 429) after ${this.retry.maxRetries} retries${suffix}`,
          'throttled',
          429,
          { transient: true },
        ),
      };
    }
    return {
      ok: false,
      retryable: false,
      status: response.status,
      error: new TeamsWebhookError(
        `The Teams webhook at ${this.host} answered HTTP ${response.status}${suffix}${hintFor(response.status)}`,
        'rejected',
        response.status,
        { transient: response.status >= 500 },
      ),
    };
  }

  /** Upstream text can echo the request URL; scrub it and any query string before it goes anywhere. */
  private clean(text: string): string {
    return stripQueryStrings(redact(text, this.#secrets));
  }

  toJSON(): Record<string, unknown> {
    return { webhookHost: this.host };
  }

  [inspect.custom](): string {
    return `TeamsWebhookSender { webhookHost: '${this.host}' }`;
  }
}

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
function webhookSecrets(url: URL, asConfigured: string): string[] {
  // The configured spelling too: URL normalises it (drops :443, re-encodes), but an upstream echo would not.
  const secrets = [asConfigured, url.href, `${url.origin}${url.pathname}`, url.pathname, url.search.slice(1)];
  for (const [, value] of url.searchParams) secrets.push(value, encodeURIComponent(value));
  // Longest first, so a secret that contains another is replaced whole.
  return [...new Set(secrets.filter((secret) => secret.length >= 8 && secret !== '/'))].sort((a, b) => b.length - a.length);
}

/** Keeps scheme, host and path of any URL in the text, drops its query and fragment. */
export function stripQueryStrings(text: string): string {
  return text.replace(/\b(https?:\/\/[^\s?#"'<>]*)[?#][^\s"'<>]*/gi, '$1?[query removed]').replace(/\bsig=[^\s&"'<>)]+/gi, 'sig=[redacted]');
}

function tooLarge(bytes: number, status?: number): TeamsWebhookError {
  return new TeamsWebhookError(
    `Teams refuses messages above about 28 KB ("Request entity too large"); this card is ${bytes.toLocaleString('en-US')} bytes${
      status === undefined ? ' and was not sent' : ` (HTTP ${status})`
    }. Build it with the card builders, which summarise long lists.`,
    'too-large',
    status ?? 413,
  );
}

function hintFor(status: number): string {
  if (status === 401 || status === 403) return ' The webhook URL may have been regenerated or the flow turned off; check the Workflows flow.';
  if (status === 404) return ' The flow may have been deleted; check the Workflows flow.';
  return '';
}

/** Reads at most a few KB: an error page is not worth more, and a success body is not used. */
async function readSome(response: Response): Promise<string> {
  try {
    const text = await response.text();
    return text.slice(0, 4096);
  } catch {
    return '';
  }
}
