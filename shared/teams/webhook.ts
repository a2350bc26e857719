import { inspect } from 'node:util';
import {
  type HttpClient,
  type PipelinePolicy,
  type PipelineRequest,
  type PipelineResponse,
  createHttpHeaders,
  createPipelineRequest,
} from '@azure/core-rest-pipeline';
import { ServiceError } from '../errors';
import { redactSecrets } from '../errors/redact';
import {
  type RetryNotice,
  type RetryPolicy,
  type SendRequest,
  backoffStrategy,
  createClientPipeline,
  defaultSleep,
  describeFailure,
  resolveRetryPolicy,
  retryAfterStrategy,
  truncate,
  unreachableStrategy,
} from '../http';
import { type Logger, silentLogger } from '../logging';
import type { AdaptiveCard, TeamsWebhookPayload } from './card-types';
import { TEAMS_MESSAGE_LIMIT_BYTES, serializePayload, toWebhookPayload } from './payload';
import { TEAMS_WEBHOOK_RATE_LIMITS, WebhookRateLimiter } from './rate-limiter';
import { parseTeamsWebhookUrl, webhookSecrets } from './webhook-url';

export { type RateWindow, TEAMS_WEBHOOK_RATE_LIMITS, WebhookRateLimiter } from './rate-limiter';
export { parseTeamsWebhookUrl } from './webhook-url';

/**
 * Posts cards to a Teams channel through a Workflows webhook ("When a Teams webhook request is
 * received"). The webhook URL is a secret: its `sig=` query parameter is a SAS signature that lets
 * anyone post to the channel. The sender keeps it in a private field and never puts it, its path
 * or its query into a message, a log line or an error; logs name the host only.
 *
 * HTTP goes through a core-rest-pipeline Pipeline without a token policy: retries (Retry-After on
 * 429), our rate limiter on every attempt, and redaction of the URL from anything Teams echoes.
 * Redirects are not followed, so the message cannot be re-posted elsewhere.
 */

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
  /** The wire under the pipeline; defaults to core-rest-pipeline's Node client. */
  httpClient?: HttpClient;
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

/** What the pipeline's policies know about the post they carry. */
interface Post {
  logFields: Record<string, unknown>;
  retries: number;
}

export class TeamsWebhookSender {
  readonly #url: string;
  readonly #secrets: string[];
  readonly #send: SendRequest;
  private readonly host: string;
  private readonly logger: Logger;
  private readonly posts = new WeakMap<PipelineRequest, Post>();

  constructor(options: TeamsWebhookSenderOptions) {
    this.#url = parseTeamsWebhookUrl(options.webhookUrl);
    const url = new URL(this.#url);
    this.host = url.host;
    this.#secrets = webhookSecrets(url, options.webhookUrl.trim());
    this.logger = options.logger ?? silentLogger;
    const retry = resolveRetryPolicy(options.retry, DEFAULT_RETRY);
    const sleep = options.sleep ?? defaultSleep;
    const now = options.now ?? Date.now;
    const limiter = options.rateLimiter ?? new WebhookRateLimiter(TEAMS_WEBHOOK_RATE_LIMITS, now);
    // Only 429 is retried, and connections that never opened: a 5xx or a timeout may have posted.
    const throttled = (response: PipelineResponse) => response.status === 429 && !TOO_LARGE_TEXT.test(response.bodyAsText ?? '');
    this.#send = createClientPipeline({
      strategies: [
        unreachableStrategy(),
        retryAfterStrategy({ maxDelayMs: retry.maxDelayMs, applies: throttled, now }),
        backoffStrategy(retry, options.random ?? Math.random, ({ response }) => response !== undefined && throttled(response)),
      ],
      maxRetries: retry.maxRetries,
      sleep,
      timeoutMs: options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS,
      onRetry: (request, notice) => this.retrying(request, notice),
      perAttempt: [rateLimitPolicy(limiter, options.maxQueueWaitMs ?? DEFAULT_MAX_QUEUE_WAIT_MS, sleep)],
      redaction: { known: this.#secrets, dropQueryStrings: true },
      ...(options.httpClient ? { httpClient: options.httpClient } : {}),
    });
  }

  /** Wraps the card as a webhook message and posts it. */
  async send(card: AdaptiveCard, fields: Record<string, unknown> = {}): Promise<TeamsPostResult> {
    return this.sendPayload(toWebhookPayload(card), fields);
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
    const post: Post = { logFields: { ...fields, webhookHost: this.host, bytes }, retries: 0 };
    const request = createPipelineRequest({
      url: this.#url,
      method: 'POST',
      headers: createHttpHeaders({ 'Content-Type': 'application/json' }),
      body,
      // parseTeamsWebhookUrl allows plain http on loopback only (the local receiver).
      allowInsecureConnection: this.#url.startsWith('http:'),
    });
    this.posts.set(request, post);

    let response: PipelineResponse;
    try {
      response = await this.#send(request);
    } catch (error) {
      if (error instanceof TeamsWebhookError) throw error;
      const cause = redactSecrets(describeFailure(error), { known: this.#secrets, dropQueryStrings: true });
      throw new TeamsWebhookError(`Could not reach the Teams webhook at ${this.host}: ${cause}.`, 'unreachable', undefined, { transient: true });
    }
    const attempts = post.retries + 1;
    if (response.status >= 200 && response.status < 300) {
      this.logger.info('Posted a card to the Teams channel.', { ...post.logFields, status: response.status, attempts });
      return { status: response.status, attempts, bytes };
    }
    throw this.refusal(response, bytes, post.retries);
  }

  /** The error for a non-2xx answer. Its body was redacted by the pipeline; an error page is not worth more than a few KB. */
  private refusal(response: PipelineResponse, bytes: number, retries: number): TeamsWebhookError {
    const { status } = response;
    const text = (response.bodyAsText ?? '').slice(0, 4096);
    const detail = truncate(text, 300);
    const suffix = detail ? `: ${detail}` : '.';
    if (status === 413 || TOO_LARGE_TEXT.test(text)) return tooLarge(bytes, status);
    if (status === 429) {
      return new TeamsWebhookError(`Teams kept throttling the webhook at ${this.host} (HTTP 429) after ${retries} retries${suffix}`, 'throttled', 429, {
        transient: true,
      });
    }
    return new TeamsWebhookError(`The Teams webhook at ${this.host} answered HTTP ${status}${suffix}${hintFor(status)}`, 'rejected', status, {
      transient: status >= 500,
    });
  }

  private retrying(request: PipelineRequest, { attempt, delayMs, status }: RetryNotice): void {
    const post = this.posts.get(request);
    if (!post) return;
    post.retries = attempt;
    this.logger.warn(status === 429 ? 'Teams throttled the webhook (429); retrying.' : 'Could not reach the Teams webhook; retrying.', {
      ...post.logFields,
      ...(status === undefined ? {} : { status }),
      attempt,
      delayMs,
    });
  }

  toJSON(): Record<string, unknown> {
    return { webhookHost: this.host };
  }

  [inspect.custom](): string {
    return `TeamsWebhookSender { webhookHost: '${this.host}' }`;
  }
}

/** Our side of Teams' limits: every attempt, retries included, first takes a slot (or fails fast). */
function rateLimitPolicy(limiter: WebhookRateLimiter, maxQueueWaitMs: number, sleep: (ms: number) => Promise<void>): PipelinePolicy {
  return {
    name: 'teamsRateLimit',
    async sendRequest(request, next) {
      const wait = limiter.reserve(maxQueueWaitMs);
      if (wait === undefined) {
        throw new TeamsWebhookError(
          'Not posting to the Teams webhook: its rate limits (Teams allows 4 per second, 60 per 30 s, 100 per hour, ' +
            `1,800 per day) leave no free slot within ${Math.round(maxQueueWaitMs / 1000)} s. Try again later.`,
          'rate-limited',
          undefined,
          { transient: true },
        );
      }
      if (wait > 0) await sleep(wait);
      return next(request);
    },
  };
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
