/**
 * A local stand-in for a Teams Workflows webhook ("When a Teams webhook request is received"):
 * it accepts what Workflows accepts, answers 202 as Workflows does, refuses what Teams refuses
 * (a wrong signature, a malformed message, more than 28 KB), can be told to throttle, and saves
 * every card it receives as JSON and as rendered HTML so a person can see what Teams would show.
 *
 * Its URL carries a random `sig=` like the real one, so tests can check that the sender treats
 * the URL as the secret it is.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { z } from 'zod';
import type { CardIssue } from './card-renderer';
import { ADAPTIVE_CARD_CONTENT_TYPE, TEAMS_MESSAGE_LIMIT_BYTES, type AdaptiveCardJson, type TeamsWebhookPayload } from './teams-facts';

export interface TeamsWebhookReceiverOptions {
  /** 0 (the default) picks a free port. Listens on 127.0.0.1 only. */
  port?: number;
  /** When set, each card is saved here as card-NNN.json and card-NNN.html. */
  outputDir?: string;
  /** Check each card with the adaptivecards library and keep the issues (default true). */
  checkCards?: boolean;
  /** Answer 429 when a client exceeds Teams' per-webhook limits (default false: timing on a busy machine is noisy). */
  enforceRateLimits?: boolean;
}

export interface ReceivedCard {
  /** 1-based, in arrival order. */
  index: number;
  payload: TeamsWebhookPayload;
  card: AdaptiveCardJson;
  bytes: number;
  /** Parse and policy problems the adaptivecards library and our rules found (empty = clean). */
  issues: CardIssue[];
  files?: { json: string; html: string };
}

export interface TeamsWebhookReceiver {
  /** The secret-looking webhook URL to give the sender. */
  url: string;
  /** The `sig` value inside `url`, for tests that look for it in logs. */
  signature: string;
  /** Every accepted message body, in order. */
  received: TeamsWebhookPayload[];
  deliveries: ReceivedCard[];
  /** Every POST that reached the receiver, accepted or not. */
  attempts: number;
  /** Answer the next `times` POSTs with 429 and this Retry-After (seconds; omitted when undefined). */
  throttleNext(times: number, retryAfterSeconds?: number): void;
  stop(): Promise<void>;
}

/** What Workflows' Teams trigger accepts for an Adaptive Card message. */
const payloadSchema = z.object({
  type: z.literal('message'),
  attachments: z
    .array(
      z.object({
        contentType: z.literal(ADAPTIVE_CARD_CONTENT_TYPE),
        contentUrl: z.null().optional(),
        content: z.looseObject({
          type: z.literal('AdaptiveCard'),
          version: z.string().regex(/^\d+\.\d+$/),
          body: z.array(z.looseObject({ type: z.string() })).optional(),
          actions: z.array(z.looseObject({ type: z.string() })).optional(),
        }),
      }),
    )
    .min(1),
});

export async function startTeamsWebhookReceiver(options: TeamsWebhookReceiverOptions = {}): Promise<TeamsWebhookReceiver> {
  const signature = randomBytes(32).toString('base64url');
  const path = `/workflows/${randomUUID().replace(/-/g, '')}/triggers/manual/paths/invoke`;
  const checkCards = options.checkCards ?? true;
  const arrivals: number[] = [];
  const throttle = { remaining: 0, retryAfterSeconds: undefined as number | undefined };
  const received: TeamsWebhookPayload[] = [];
  const deliveries: ReceivedCard[] = [];
  const state = { attempts: 0 };

  const handle = async (request: IncomingMessage, body: Buffer, size: number): Promise<Answer> => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== path) return errorAnswer(404, 'NotFound', 'No workflow at this address.');
    if (request.method !== 'POST') return errorAnswer(405, 'MethodNotAllowed', 'The trigger accepts POST only.');
    state.attempts += 1;
    if (url.searchParams.get('sig') !== signature) {
      return errorAnswer(401, 'DirectApiAuthorizationRequired', 'The request must be authenticated with a valid SAS signature.');
    }
    if (throttle.remaining > 0) {
      throttle.remaining -= 1;
      return errorAnswer(429, 'TooManyRequests', 'Rate limit is exceeded.', throttle.retryAfterSeconds);
    }
    if (options.enforceRateLimits && overLimit(arrivals, Date.now())) {
      return errorAnswer(429, 'TooManyRequests', 'Rate limit is exceeded.', 1);
    }
    if (size > TEAMS_MESSAGE_LIMIT_BYTES) return errorAnswer(413, 'RequestEntityTooLarge', 'Request entity too large');
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      return errorAnswer(400, 'InvalidRequestContent', 'The request content is not valid JSON.');
    }
    const parsed = payloadSchema.safeParse(json);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
      return errorAnswer(400, 'InvalidRequestContent', `The message is not a Teams Adaptive Card message: ${problems}`);
    }

    const payload = json as TeamsWebhookPayload;
    const card = payload.attachments[0]?.content as AdaptiveCardJson;
    const delivery: ReceivedCard = { index: deliveries.length + 1, payload, card, bytes: body.length, issues: [] };
    // Reserved before the first await, so concurrent posts keep their arrival order.
    deliveries.push(delivery);
    received.push(payload);
    if (checkCards || options.outputDir) {
      const renderer = await import('./card-renderer');
      if (checkCards) delivery.issues = renderer.validateCard(card);
      if (options.outputDir) delivery.files = await saveCard(options.outputDir, delivery, renderer.renderCardToHtml);
    }
    return { status: 202, headers: {}, body: '' };
  };

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      // Count everything, keep nothing past the limit: a flood must not fill memory.
      if (size <= TEAMS_MESSAGE_LIMIT_BYTES) chunks.push(chunk);
    });
    request.on('end', () => {
      handle(request, Buffer.concat(chunks), size)
        .then((answer) => send(response, answer))
        .catch((error: unknown) => {
          const message = error instanceof Error ? error.message : String(error);
          send(response, errorAnswer(500, 'InternalServerError', message));
        });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const query = new URLSearchParams({ 'api-version': '2016-06-01', sp: '/triggers/manual/run', sv: '1.0', sig: signature });

  return {
    url: `http://127.0.0.1:${port}${path}?${query.toString()}`,
    signature,
    received,
    deliveries,
    get attempts() {
      return state.attempts;
    },
    throttleNext(times: number, retryAfterSeconds?: number) {
      throttle.remaining = times;
      throttle.retryAfterSeconds = retryAfterSeconds;
    },
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/**
 * Teams' short-window limits, counted independently of the sender's limiter so that the
 * receiver checks the client rather than agreeing with it.
 */
const SIM_RATE_LIMITS = [
  { limit: 4, windowMs: 1_000 },
  { limit: 60, windowMs: 30_000 },
];

function overLimit(arrivals: number[], now: number): boolean {
  while (arrivals.length > 0 && (arrivals[0] as number) <= now - 30_000) arrivals.shift();
  const over = SIM_RATE_LIMITS.some(({ limit, windowMs }) => arrivals.filter((at) => at > now - windowMs).length >= limit);
  if (!over) arrivals.push(now);
  return over;
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Logic Apps' error body shape. */
function errorAnswer(status: number, code: string, message: string, retryAfterSeconds?: number): Answer {
  return {
    status,
    headers: {
      'Content-Type': 'application/json; charset=utf-8',
      ...(retryAfterSeconds !== undefined ? { 'Retry-After': String(retryAfterSeconds) } : {}),
    },
    body: JSON.stringify({ error: { code, message } }),
  };
}

function send(response: ServerResponse, answer: Answer): void {
  response.writeHead(answer.status, answer.headers);
  response.end(answer.body);
}

async function saveCard(
  outputDir: string,
  delivery: ReceivedCard,
  render: (card: unknown, options?: { title?: string }) => string,
): Promise<{ json: string; html: string }> {
  await mkdir(outputDir, { recursive: true });
  const stem = `card-${String(delivery.index).padStart(3, '0')}`;
  const files = { json: join(outputDir, `${stem}.json`), html: join(outputDir, `${stem}.html`) };
  await writeFile(files.json, `${JSON.stringify(delivery.card, null, 2)}\n`);
  await writeFile(files.html, render(delivery.card, { title: `Teams card ${delivery.index}` }));
  return files;
}
