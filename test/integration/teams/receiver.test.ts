import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { type TeamsWebhookReceiver, startTeamsWebhookReceiver } from '../../../sim/teams-webhook';
import { ApprovalSigningKey, signApprovalLinks } from '../../../shared/approval';
import type { Logger } from '../../../shared/logging';
import { TeamsWebhookError, TeamsWebhookSender, buildDecisionCard, buildDigestCard } from '../../../shared/teams';
import { hugeDigest, PUBLIC_BASE_URL, SCANNED_AT } from '../../support/fixtures/digest';

let receiver: TeamsWebhookReceiver | undefined;
let outputDir: string | undefined;

afterEach(async () => {
  await receiver?.stop();
  receiver = undefined;
  if (outputDir) rmSync(outputDir, { recursive: true, force: true });
  outputDir = undefined;
});

function capturingLogger(lines: string[]): Logger {
  const capture = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    lines.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
  return { info: capture('info'), warn: capture('warn'), error: capture('error') };
}

const noWait = async (): Promise<void> => undefined;

describe('the local Teams webhook receiver', () => {
  it('accepts a digest with 202, checks it with adaptivecards and saves it as JSON and HTML', async () => {
    outputDir = mkdtempSync(join(tmpdir(), 'teams-cards-'));
    receiver = await startTeamsWebhookReceiver({ outputDir });
    expect(new URL(receiver.url).searchParams.get('sig')).toBe(receiver.signature);

    const key = ApprovalSigningKey.fromBytes(randomBytes(32));
    const card = buildDigestCard(hugeDigest(100_000, 5_000, key));
    const sender = new TeamsWebhookSender({ webhookUrl: receiver.url });
    await expect(sender.send(card)).resolves.toMatchObject({ status: 202, attempts: 1 });

    expect(receiver.received).toHaveLength(1);
    const [delivery] = receiver.deliveries;
    expect(delivery?.issues).toEqual([]);
    expect(delivery?.card).toEqual(card);
    expect(readdirSync(outputDir).sort()).toEqual(['card-001.html', 'card-001.json']);
    expect(JSON.parse(readFileSync(join(outputDir, 'card-001.json'), 'utf8'))).toEqual(card);
    const html = readFileSync(join(outputDir, 'card-001.html'), 'utf8');
    expect(html).toContain('Mailbox audit drift: nightly digest');
    expect(html).toContain('ac-pushButton');
  });

  it('answers 429 when told to, and the sender gets through by honouring Retry-After', async () => {
    receiver = await startTeamsWebhookReceiver({ checkCards: false });
    receiver.throttleNext(2, 1);
    const sleeps: number[] = [];
    const sender = new TeamsWebhookSender({
      webhookUrl: receiver.url,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });
    const card = buildDecisionCard({
      requestId: 'req-1',
      ruleId: 'org-audit-disabled',
      objectUpn: 'contoso.onmicrosoft.com',
      change: 'Set-OrganizationConfig -AuditDisabled $false',
      decision: 'approve',
      approverName: 'adele.vance@contoso.example',
      decidedAt: SCANNED_AT,
    });
    await expect(sender.send(card)).resolves.toMatchObject({ status: 202, attempts: 3 });
    expect(sleeps).toEqual([1_000, 1_000]);
    expect(receiver.attempts).toBe(3);
    expect(receiver.received).toHaveLength(1);
  });

  it('refuses a wrong signature (401), a wrong path (404) and GET (405)', async () => {
    receiver = await startTeamsWebhookReceiver({ checkCards: false });
    const url = new URL(receiver.url);
    url.searchParams.set('sig', 'wrong-signature-value');
    expect((await fetch(url, { method: 'POST', body: '{}' })).status).toBe(401);
    expect((await fetch(new URL('/elsewhere', receiver.url), { method: 'POST', body: '{}' })).status).toBe(404);
    expect((await fetch(receiver.url)).status).toBe(405);
    expect(receiver.received).toHaveLength(0);
  });

  it.each([
    ['not JSON', 'hello'],
    ['no attachments', JSON.stringify({ type: 'message', attachments: [] })],
    ['a MessageCard', JSON.stringify({ '@type': 'MessageCard', text: 'hi' })],
    ['the wrong content type', JSON.stringify({ type: 'message', attachments: [{ contentType: 'text/plain', content: {} }] })],
    [
      'a card without a version',
      JSON.stringify({
        type: 'message',
        attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: { type: 'AdaptiveCard', body: [] } }],
      }),
    ],
  ])('answers 400 to %s', async (_name, body) => {
    receiver = await startTeamsWebhookReceiver({ checkCards: false });
    const response = await fetch(receiver.url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
    expect(response.status).toBe(400);
    expect(receiver.received).toHaveLength(0);
  });

  it('answers 413 "Request entity too large" above 28 KB', async () => {
    receiver = await startTeamsWebhookReceiver({ checkCards: false });
    const response = await fetch(receiver.url, { method: 'POST', body: 'x'.repeat(29 * 1024) });
    expect(response.status).toBe(413);
    expect(await response.text()).toContain('Request entity too large');
  });

  it('records adaptivecards problems of a card it accepts', async () => {
    receiver = await startTeamsWebhookReceiver();
    const body = JSON.stringify({
      type: 'message',
      attachments: [
        {
          contentType: 'application/vnd.microsoft.card.adaptive',
          content: {
            type: 'AdaptiveCard',
            version: '1.4',
            body: [{ type: 'TextBlock', text: 'x' }],
            actions: [{ type: 'Action.Submit', title: 'ok' }],
          },
        },
      ],
    });
    expect((await fetch(receiver.url, { method: 'POST', body })).status).toBe(202);
    expect(receiver.deliveries[0]?.issues.map((issue) => issue.event)).toContain('ActionNotAllowed');
  });

  it('can enforce the per-second limit like Teams does', async () => {
    receiver = await startTeamsWebhookReceiver({ checkCards: false, enforceRateLimits: true });
    const body = JSON.stringify({
      type: 'message',
      attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: { type: 'AdaptiveCard', version: '1.4', body: [] } }],
    });
    const statuses: number[] = [];
    for (let index = 0; index < 5; index += 1) statuses.push((await fetch(receiver.url, { method: 'POST', body })).status);
    expect(statuses).toEqual([202, 202, 202, 202, 429]);
  });
});

describe('secrets stay out of every log line, error and card', () => {
  it('never shows the webhook URL, its sig, or the signing key', async () => {
    outputDir = mkdtempSync(join(tmpdir(), 'teams-cards-'));
    receiver = await startTeamsWebhookReceiver({ outputDir });
    const keyText = randomBytes(32).toString('base64');
    const key = ApprovalSigningKey.parse(keyText);
    const lines: string[] = [];
    const logger = capturingLogger(lines);
    const seen: string[] = [];
    const record = (error: unknown) => {
      if (error instanceof Error) seen.push(error.message, error.stack ?? '', JSON.stringify(error), inspect(error, { showHidden: true, depth: 5 }));
      else seen.push(String(error));
    };
    const sender = new TeamsWebhookSender({ webhookUrl: receiver.url, logger, sleep: noWait });

    // A throttled digest that gets through, a follow-up, a card that is too large, and a sender with a revoked signature.
    receiver.throttleNext(2, 1);
    const digest = buildDigestCard(hugeDigest(5_000, 50, key));
    await sender.send(digest, { tenantId: 't1', scanId: 's1' });
    const links = signApprovalLinks('req-000001', key, PUBLIC_BASE_URL, { now: SCANNED_AT });
    seen.push(links.approveUrl, links.rejectUrl);
    await sender.send(
      buildDecisionCard({
        requestId: 'req-000001',
        ruleId: 'audit-bypass-enabled',
        objectUpn: 'svc-1@contoso.example',
        change: "Set-MailboxAuditBypassAssociation -Identity 'svc-1@contoso.example' -AuditBypassEnabled $false",
        decision: 'reject',
        approverName: 'adele.vance@contoso.example',
        decidedAt: SCANNED_AT,
        reason: 'vendor needs it',
      }),
    );
    await sender
      .send({ ...digest, body: [{ type: 'TextBlock', text: 'x'.repeat(30_000) }] })
      .then(() => seen.push('unexpectedly sent'))
      .catch(record);
    const revoked = new URL(receiver.url);
    revoked.searchParams.set('sig', `${receiver.signature.slice(0, -4)}AAAA`);
    const revokedSig = revoked.searchParams.get('sig') as string;
    await new TeamsWebhookSender({ webhookUrl: revoked.href, logger, sleep: noWait })
      .send(digest)
      .then(() => seen.push('unexpectedly sent'))
      .catch((error: unknown) => {
        expect(error).toBeInstanceOf(TeamsWebhookError);
        record(error);
      });
    for (const delivery of receiver.deliveries) seen.push(JSON.stringify(delivery.card));
    for (const file of readdirSync(outputDir)) seen.push(readFileSync(join(outputDir, file), 'utf8'));
    seen.push(inspect(sender, { showHidden: true, depth: 5 }), JSON.stringify({ sender, key }), inspect(key));

    expect(receiver.received).toHaveLength(2);
    expect(lines.some((line) => line.includes('429'))).toBe(true);
    expect(existsSync(join(outputDir, 'card-002.html'))).toBe(true);
    const everything = [...lines, ...seen].join('\n');
    const secrets = [
      receiver.url,
      new URL(receiver.url).pathname,
      receiver.signature,
      revoked.href,
      revokedSig,
      keyText,
      Buffer.from(keyText, 'base64').toString('hex'),
    ];
    for (const secret of secrets) {
      expect(everything).not.toContain(secret);
    }
  });
});
