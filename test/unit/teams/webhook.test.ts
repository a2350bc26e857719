import { inspect } from 'node:util';
import { type HttpClient, createHttpHeaders } from '@azure/core-rest-pipeline';
import { ValidationError } from '../../../shared/errors';
import { redactSecrets } from '../../../shared/errors/redact';
import type { Logger } from '../../../shared/logging';
import {
  type AdaptiveCard,
  TeamsWebhookError,
  TeamsWebhookSender,
  type TeamsWebhookSenderOptions,
  WebhookRateLimiter,
  buildDecisionCard,
  parseTeamsWebhookUrl,
} from '../../../shared/teams';

const SIG = 'Zm9yZ2VkLXNpZ25hdHVyZS12YWx1ZS1mb3ItdGVzdHM';
const WEBHOOK =
  'https://prod-42.westeurope.logic.azure.com:443/workflows/0123456789abcdef0123456789abcdef/triggers/manual/paths/invoke' +
  `?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=${SIG}`;
const WEBHOOK_PATH = '/workflows/0123456789abcdef0123456789abcdef/triggers/manual/paths/invoke';

const card: AdaptiveCard = buildDecisionCard({
  requestId: 'req-1',
  ruleId: 'org-audit-disabled',
  objectUpn: 'contoso.onmicrosoft.com',
  change: 'Set-OrganizationConfig -AuditDisabled $false',
  decision: 'approve',
  approverName: 'adele.vance@contoso.example',
  decidedAt: new Date('2026-06-01T08:00:00Z'),
});

type Answer = Response | Error;

interface Harness {
  sender: TeamsWebhookSender;
  calls: Array<{ url: string; method: string; headers: Record<string, string>; body: string; at: number }>;
  sleeps: number[];
  logs: string[];
  clock: { now: number };
}

/**
 * An HTTP client answering from a script (fetch Responses, or errors as a connection would throw
 * them), a clock that only moves when the sender sleeps, and a capturing logger.
 */
function harness(answers: Answer[] | ((index: number) => Answer), options: Partial<TeamsWebhookSenderOptions> = {}): Harness {
  const clock = { now: Date.parse('2026-06-01T02:00:00Z') };
  const calls: Harness['calls'] = [];
  const sleeps: number[] = [];
  const logs: string[] = [];
  const capture = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    logs.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
  const logger: Logger = { info: capture('info'), warn: capture('warn'), error: capture('error') };
  const httpClient: HttpClient = {
    async sendRequest(request) {
      const call = { url: request.url, method: request.method, headers: request.headers.toJSON({ preserveCase: true }), body: String(request.body), at: clock.now };
      const index = calls.push(call) - 1;
      const answer = typeof answers === 'function' ? answers(index) : answers[index];
      if (!answer) throw new Error(`unexpected request ${index}`);
      if (answer instanceof Error) throw answer;
      return { request, status: answer.status, headers: createHttpHeaders(Object.fromEntries(answer.headers)), bodyAsText: await answer.text() };
    },
  };
  const sender = new TeamsWebhookSender({
    webhookUrl: WEBHOOK,
    httpClient,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock.now += ms;
    },
    now: () => clock.now,
    random: () => 0.5,
    logger,
    ...options,
  });
  return { sender, calls, sleeps, logs, clock };
}

const accepted = () => new Response(null, { status: 202 });
const throttled = (retryAfter?: string, body = '{"error":{"code":"TooManyRequests"}}') =>
  new Response(body, { status: 429, headers: retryAfter === undefined ? {} : { 'Retry-After': retryAfter } });

async function rejection(promise: Promise<unknown>): Promise<TeamsWebhookError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TeamsWebhookError) return error;
    throw error;
  }
  throw new Error('expected the send to fail');
}

describe('TeamsWebhookSender', () => {
  it('POSTs the Workflows message as JSON', async () => {
    const { sender, calls, logs } = harness([accepted()]);
    await expect(sender.send(card, { tenantId: 't1' })).resolves.toEqual({ status: 202, attempts: 1, bytes: expect.any(Number) });
    const [call] = calls;
    expect(call?.url).toBe(WEBHOOK.replace(':443', ''));
    expect(call?.method).toBe('POST');
    expect(call?.headers['Content-Type']).toBe('application/json');
    const body = JSON.parse(String(call?.body)) as { type: string; attachments: Array<{ contentType: string; content: unknown }> };
    expect(body.type).toBe('message');
    expect(body.attachments[0]?.contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(body.attachments[0]?.content).toEqual(card);
    expect(logs).toEqual([expect.stringContaining('info Posted a card to the Teams channel.')]);
    expect(logs[0]).toContain('"webhookHost":"prod-42.westeurope.logic.azure.com"');
  });

  it('honours Retry-After on 429 (seconds and HTTP dates)', async () => {
    const { sender, sleeps, clock } = harness((index) =>
      index === 0 ? throttled('7') : index === 1 ? throttled(new Date(clock.now + 3_000).toUTCString()) : accepted(),
    );
    await expect(sender.send(card)).resolves.toMatchObject({ attempts: 3 });
    expect(sleeps).toEqual([7_000, 3_000]);
  });

  it('backs off exponentially on 429 without Retry-After', async () => {
    const { sender, sleeps } = harness((index) => (index < 3 ? throttled() : accepted()));
    await sender.send(card);
    // Equal jitter at random() = 0.5: 3/4 of 1 s, 2 s, 4 s. The limiter needs no wait: those are > 1 s apart.
    expect(sleeps).toEqual([750, 1_500, 3_000]);
  });

  it('caps a long Retry-After and gives up after the retries', async () => {
    const { sender, sleeps, calls } = harness(() => throttled('3600'), { retry: { maxRetries: 2, maxDelayMs: 30_000 } });
    const error = await rejection(sender.send(card));
    expect(error.reason).toBe('throttled');
    expect(error.statusCode).toBe(429);
    expect(error.transient).toBe(true);
    expect(calls).toHaveLength(3);
    expect(sleeps).toEqual([30_000, 30_000]);
  });

  it('reports 413 / "Request entity too large" clearly and does not retry', async () => {
    for (const answer of [new Response('', { status: 413 }), new Response('{"error":{"message":"Request entity too large"}}', { status: 400 })]) {
      const { sender, calls } = harness([answer]);
      const error = await rejection(sender.send(card));
      expect(error.reason).toBe('too-large');
      expect(error.message).toContain('28 KB');
      expect(calls).toHaveLength(1);
    }
  });

  it('refuses to post a message over 28 KB at all', async () => {
    const { sender, calls } = harness([accepted()]);
    const huge: AdaptiveCard = { ...card, body: [{ type: 'TextBlock', text: 'x'.repeat(29 * 1024) }] };
    const error = await rejection(sender.send(huge));
    expect(error.reason).toBe('too-large');
    expect(error.message).toContain('was not sent');
    expect(calls).toHaveLength(0);
  });

  it('retries a refused connection, but not a failure after sending', async () => {
    const refused = () => new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
    const first = harness([refused(), accepted()]);
    await expect(first.sender.send(card)).resolves.toMatchObject({ attempts: 2 });

    const reset = () => new TypeError('fetch failed', { cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) });
    const second = harness([reset(), accepted()]);
    const error = await rejection(second.sender.send(card));
    expect(error.reason).toBe('unreachable');
    expect(second.calls).toHaveLength(1);
  });

  it('does not retry a 5xx (the message may have been posted) but marks it transient', async () => {
    const { sender, calls } = harness([new Response('upstream failed', { status: 502 }), accepted()]);
    const error = await rejection(sender.send(card));
    expect(error.reason).toBe('rejected');
    expect(error.transient).toBe(true);
    expect(calls).toHaveLength(1);
  });

  it('explains a 401/404 from a regenerated or deleted flow', async () => {
    const { sender } = harness([new Response('', { status: 401 })]);
    const error = await rejection(sender.send(card));
    expect(error.transient).toBe(false);
    expect(error.message).toContain('check the Workflows flow');
  });
});

describe('rate limiting', () => {
  it('keeps any 4 posts at least 1 s apart and any 60 at least 30 s apart', async () => {
    const { sender, calls } = harness(() => accepted(), { maxQueueWaitMs: Number.POSITIVE_INFINITY });
    for (let index = 0; index < 100; index += 1) await sender.send(card);
    const times = calls.map((call) => call.at - (calls[0]?.at ?? 0));
    expect(times.slice(0, 4)).toEqual([0, 0, 0, 0]);
    const gap = (from: number, count: number) => (times[from + count] as number) - (times[from] as number);
    for (let index = 0; index + 4 < times.length; index += 1) expect(gap(index, 4)).toBeGreaterThanOrEqual(1_000);
    for (let index = 0; index + 60 < times.length; index += 1) expect(gap(index, 60)).toBeGreaterThanOrEqual(30_000);
    // …and no slower than that: the 61st post goes out exactly when the first leaves the window.
    expect(times[60]).toBe(30_000);
  });

  it('stops at 100 per hour, failing fast instead of waiting past maxQueueWaitMs', async () => {
    const { sender, calls } = harness(() => accepted(), { maxQueueWaitMs: 60_000 });
    for (let index = 0; index < 100; index += 1) await sender.send(card);
    const error = await rejection(sender.send(card));
    expect(error.reason).toBe('rate-limited');
    expect(error.transient).toBe(true);
    expect(calls).toHaveLength(100);
  });

  it('reserves slots in order for concurrent callers', () => {
    const limiter = new WebhookRateLimiter(undefined, () => 0);
    const waits = Array.from({ length: 10 }, () => limiter.reserve());
    expect(waits).toEqual([0, 0, 0, 0, 1_000, 1_000, 1_000, 1_000, 2_000, 2_000]);
  });

  it('reserves nothing when the wait is too long', () => {
    let now = 0;
    const limiter = new WebhookRateLimiter([{ limit: 1, windowMs: 1_000 }], () => now);
    expect(limiter.reserve(0)).toBe(0);
    expect(limiter.reserve(500)).toBeUndefined();
    expect(limiter.reserve(1_000)).toBe(1_000);
    now = 5_000;
    expect(limiter.reserve(0)).toBe(0);
  });

  it('shares one limiter between senders of the same webhook', async () => {
    const clock = { now: 0 };
    const limiter = new WebhookRateLimiter(undefined, () => clock.now);
    const a = harness(() => accepted(), { rateLimiter: limiter });
    const b = harness(() => accepted(), { rateLimiter: limiter });
    for (let index = 0; index < 4; index += 1) await a.sender.send(card);
    await b.sender.send(card);
    expect(b.sleeps).toEqual([1_000]);
  });
});

describe('parseTeamsWebhookUrl', () => {
  it('accepts a Workflows URL and loopback http (the local receiver)', () => {
    expect(parseTeamsWebhookUrl(WEBHOOK)).toBe(WEBHOOK.replace(':443', ''));
    expect(parseTeamsWebhookUrl('http://127.0.0.1:9999/x?sig=abc')).toBe('http://127.0.0.1:9999/x?sig=abc');
  });

  it.each([
    ['missing', undefined],
    ['not a URL', `not a url sig=${SIG}`],
    ['plain http', `http://prod-42.westeurope.logic.azure.com/x?sig=${SIG}`],
    ['a retired connector', `https://contoso.webhook.office.com/webhookb2/abc@def/IncomingWebhook/123/456?sig=${SIG}`],
    ['with credentials', `https://user:${SIG}@prod-42.westeurope.logic.azure.com/x`],
  ])('refuses %s, naming the setting and never its value', (_name, value) => {
    let caught: unknown;
    try {
      parseTeamsWebhookUrl(value);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    const text = visible(caught);
    expect(text).toContain('TEAMS_WEBHOOK_URL');
    expect(text).not.toContain(SIG);
  });
});

describe('redactSecrets with dropQueryStrings (what the sender applies to upstream text)', () => {
  it('keeps host and path, drops queries and any sig=', () => {
    expect(redactSecrets(`see https://a.example/p?x=1&sig=abc for details; sig=zzz`, { dropQueryStrings: true })).toBe(
      'see https://a.example/p?[query removed] for details; sig=***',
    );
  });
});

/** Everything a person or a log could see of a thrown value. */
function visible(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const inspected = inspect(error, { depth: 5, showHidden: true });
  return [error.message, error.stack ?? '', JSON.stringify(error), inspected, String(error.cause ?? '')].join('\n');
}

describe('the webhook URL is a secret', () => {
  const echo = `Invalid request to ${WEBHOOK} (sig=${SIG}, path ${WEBHOOK_PATH})`;

  // Three entries per row: jest.each passes `done` to a test function with more parameters than the row.
  const scenarios: Array<[string, Answer[] | ((index: number) => Answer), Partial<TeamsWebhookSenderOptions>]> = [
    ['a 429 storm echoing the URL', () => throttled('1', echo), { retry: { maxRetries: 3 } }],
    ['a 500 echoing the URL', [new Response(echo, { status: 500 })], {}],
    ['a 400 too-large echoing the URL', [new Response(`Request entity too large: ${echo}`, { status: 400 })], {}],
    ['a 401 echoing the URL', [new Response(echo, { status: 401 })], {}],
    [
      'a connection error naming the URL',
      () =>
        new TypeError(`fetch failed for ${WEBHOOK}`, {
          cause: Object.assign(new Error(`connect ECONNREFUSED ${WEBHOOK}`), { code: 'ECONNREFUSED' }),
        }),
      { retry: { maxRetries: 2 } },
    ],
    ['a timeout', [Object.assign(new Error(`The operation was aborted due to timeout: ${WEBHOOK}`), { name: 'TimeoutError' })], {}],
    ['success', [accepted()], {}],
  ];

  it.each(scenarios)('never shows it in logs or errors: %s', async (_name, answers, options) => {
    const { sender, logs } = harness(answers, options);
    let text = logs.join('\n');
    try {
      await sender.send(card, { tenantId: 'tenant-1' });
    } catch (error) {
      text += `\n${visible(error)}`;
    }
    text += `\n${logs.join('\n')}\n${inspect(sender, { depth: 5, showHidden: true })}\n${JSON.stringify(sender)}\n${String(sender)}`;
    expect(text).not.toContain(SIG);
    expect(text).not.toContain(WEBHOOK);
    expect(text).not.toContain(WEBHOOK_PATH);
    expect(text).not.toContain('sig=Z');
  });
});
