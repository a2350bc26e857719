import type { Timer } from '@azure/functions';
import { createApprovalHandler } from '../../../../functions/approval-http';
import { nightlyScanHandler } from '../../../../functions/scan-timer';
import { verifyApprovalToken } from '../../../../shared/approval/links';
import { scanCommand } from '../../../../shared/cli/commands/scan';
import type { CliIO } from '../../../../shared/cli/io';
import { loggerFrom } from '../../../../shared/logging';
import { readForm } from '../../../../scripts/approval-client';
import { ApprovalFlow } from '../../../../shared/web/approval-flow';
import { openScanEnvironment } from '../../../../shared/app/scan-environment';
import { environmentDigestPoster, scanDigestNotifier, TeamsNotifier, type NotifyOutcome, type TeamsSettings } from '../../../../shared/services/teams-digest';
import { TableScanRecorder } from '../../../../shared/store/recorder';
import type { OpenUrlAction } from '../../../../shared/teams/card-types';
import { startTeamsWebhookReceiver, type TeamsWebhookReceiver } from '../../../../sim/teams-webhook';
import { startHarness, type Harness } from '../../../support/harness';
import { testStorageConnectionString } from '../../../support/storage';
import { ALICE, APPROVERS, capturingContext, getRequest, postRequest, PUBLIC_BASE_URL, requestIdOf, SIGNING_KEY, type LogLine } from '../../../support/approval';

const TIMER: Timer = { isPastDue: false, schedule: { adjustForDST: true }, scheduleStatus: { last: '', next: '', lastUpdated: '' } };
/** Teams' answers come back at once here; no test waits for real backoff. */
const FAST_SENDER = { retry: { maxRetries: 1, baseDelayMs: 5, maxDelayMs: 10 }, maxQueueWaitMs: 5_000 };

function actions(card: unknown): OpenUrlAction[] {
  const found: OpenUrlAction[] = [];
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') {
      const record = value as Record<string, unknown>;
      if (record.type === 'Action.OpenUrl') found.push(record as unknown as OpenUrlAction);
      Object.values(record).forEach(walk);
    }
  };
  walk(card);
  return found;
}

describe('the Teams digest after a scan, and the secrets it must never print', () => {
  let h: Harness;
  let receiver: TeamsWebhookReceiver;
  let teamsSettings: TeamsSettings;
  /** Every log line, error message and CLI stderr of the whole file: searched for secrets at the end. */
  const captured: LogLine[] = [];
  const outcomes: NotifyOutcome[] = [];
  /** Webhook URLs that must not leak: the working one, and a wrong-signature one used for failures. */
  const webhookSecrets: string[] = [];

  beforeAll(async () => {
    h = await startHarness({ seed: 7, mailboxes: 60, orgAuditDisabled: true });
    receiver = await startTeamsWebhookReceiver();
    teamsSettings = { TEAMS_WEBHOOK_URL: receiver.url, APPROVAL_SIGNING_KEY: SIGNING_KEY, PUBLIC_BASE_URL };
    const url = new URL(receiver.url);
    webhookSecrets.push(receiver.url, receiver.signature, url.pathname, encodeURIComponent(receiver.signature));
  });
  afterAll(async () => {
    await receiver?.stop();
    await h?.stop();
  });

  const nightly = (settings: TeamsSettings) => {
    const poster = environmentDigestPoster(async () => ({ settings: { ...h.settings, ...settings }, approvals: h.open().approvals }), { sender: FAST_SENDER });
    return nightlyScanHandler(async (context) => {
      const environment = await openScanEnvironment(h.settings, h.policy, {
        store: true,
        logger: loggerFrom(context),
        credential: h.credential,
        openRecorder: async () => new TableScanRecorder(h.store),
      });
      return {
        tenantId: h.settings.AZURE_TENANT_ID,
        policy: h.policy,
        reader: environment.reader,
        recorder: environment.recorder,
        logger: loggerFrom(context),
        planning: { ...h.open().services, logger: loggerFrom(context) },
        digest: async (scan, planning, logger) => {
          const outcome = await poster(scan, planning, logger);
          outcomes.push(outcome);
          return outcome;
        },
      };
    });
  };

  it('the nightly timer scans, plans, then posts one clean digest: counts, queued fixes, and the approval with signed links', async () => {
    const { context, lines } = capturingContext('nightly-scan', captured);
    await nightly(teamsSettings)(TIMER, context);

    expect(receiver.deliveries).toHaveLength(1);
    const [delivery] = receiver.deliveries;
    expect(delivery!.issues).toEqual([]);
    expect(delivery!.card.version).toBe('1.4');
    expect(delivery!.bytes).toBeLessThan(28 * 1024);
    const json = JSON.stringify(delivery!.card);
    expect(json).not.toContain('Action.Submit');
    expect(json).toContain('Mailbox audit drift: nightly digest');
    expect(json).toMatch(/Fixed automatically \(\d+\)/);
    const requests = await h.open().approvals.list(h.tenantId, 'pending');
    expect(json).toContain(`Waiting for approval (${requests.length})`);
    expect(json).toContain('Set-OrganizationConfig -AuditDisabled $false');

    // The most severe request comes first: org auditing off.
    const pending = requests.find((request) => request.ruleIds.includes('org-audit-disabled'));
    const approve = actions(delivery!.card).find((action) => action.title === 'Approve…')!;
    const reject = actions(delivery!.card).find((action) => action.title === 'Reject…')!;
    for (const [action, decision] of [
      [approve, 'approve'],
      [reject, 'reject'],
    ] as const) {
      expect(action.url.startsWith(`${PUBLIC_BASE_URL}/api/approvals/${pending!.requestId}?`)).toBe(true);
      const verified = verifyApprovalToken(new URL(action.url).searchParams.get('t'), { requestId: pending!.requestId, decision }, SIGNING_KEY);
      expect(verified.ok).toBe(true);
      if (verified.ok) expect(Date.parse(verified.claims.expiresAt)).toBeLessThanOrEqual(pending!.expiresAt.getTime());
    }
    expect(actions(delivery!.card).find((action) => action.title === 'Open dashboard')?.url).toBe(`${PUBLIC_BASE_URL}/api/dashboard`);
    expect(lines.some((line) => line.text.includes('nightly remediation plan'))).toBe(true);
    expect(outcomes.at(-1)).toMatchObject({ posted: true, status: 202 });
  });

  it('the approve link from the card approves through the endpoint, and the channel gets the follow-up', async () => {
    const approve = actions(receiver.deliveries[0]!.card).find((action) => action.title === 'Approve…')!.url;
    const teams = new TeamsNotifier({ settings: teamsSettings, sender: FAST_SENDER });
    const flow = new ApprovalFlow({ services: h.open().services, signingKey: SIGNING_KEY, approvers: APPROVERS, trustPrincipalHeaders: true, teams });
    const handler = createApprovalHandler(async () => flow);
    const page = await handler(getRequest(approve, ALICE), capturingContext('approval', captured).context);
    expect(page.status).toBe(200);
    const form = readForm(String(page.body))!.fields;
    const before = await h.queues.approximateCount('remediations');
    // Refusals log too; their lines join the search below.
    const forged = await handler(postRequest(requestIdOf(approve), { ...form, f: `${form.f}x` }, ALICE), capturingContext('approval', captured).context);
    expect(forged.status).toBe(400);
    const anonymous = await handler(postRequest(requestIdOf(approve), form), capturingContext('approval', captured).context);
    expect(anonymous.status).toBe(401);
    const decided = await handler(postRequest(requestIdOf(approve), form, ALICE), capturingContext('approval', captured).context);
    expect(decided.status).toBe(200);
    expect(await h.queues.approximateCount('remediations')).toBe(before + 1);
    expect(receiver.deliveries).toHaveLength(2);
    expect(receiver.deliveries[1]!.issues).toEqual([]);
    expect(JSON.stringify(receiver.deliveries[1]!.card)).toContain('Approved by alice@contoso.example');
  });

  it('is skipped with an info line when TEAMS_WEBHOOK_URL is not set', async () => {
    const { context, lines } = capturingContext('nightly-scan', captured);
    await nightly({ TEAMS_WEBHOOK_URL: undefined, APPROVAL_SIGNING_KEY: SIGNING_KEY, PUBLIC_BASE_URL })(TIMER, context);
    expect(outcomes.at(-1)).toEqual({ posted: false, reason: 'not-configured' });
    expect(lines.some((line) => line.level === 'information' && line.text.includes('TEAMS_WEBHOOK_URL is not set'))).toBe(true);
    expect(receiver.deliveries).toHaveLength(2);
  });

  it('a posting failure (a revoked signature, Teams throttling throughout) is logged and never fails the scan', async () => {
    const wrong = receiver.url.replace(/sig=[^&]+/, 'sig=RevokedSignatureValue0123456789abcdef');
    webhookSecrets.push(wrong, 'RevokedSignatureValue0123456789abcdef');
    const revoked = capturingContext('nightly-scan', captured);
    await expect(nightly({ ...teamsSettings, TEAMS_WEBHOOK_URL: wrong })(TIMER, revoked.context)).resolves.toBeUndefined();
    expect(outcomes.at(-1)).toMatchObject({ posted: false, reason: 'failed', error: expect.stringMatching(/answered HTTP 401/) });
    expect(revoked.lines.some((line) => line.level === 'error' && line.text.includes('Could not post the scan digest'))).toBe(true);

    receiver.throttleNext(10, 0);
    const throttled = capturingContext('nightly-scan', captured);
    await nightly(teamsSettings)(TIMER, throttled.context);
    expect(outcomes.at(-1)).toMatchObject({ posted: false, reason: 'failed', error: expect.stringMatching(/HTTP 429/) });
    receiver.throttleNext(0);
  });

  it('without APPROVAL_SIGNING_KEY the digest still goes out, counting the requests without links', async () => {
    const notifier = new TeamsNotifier({ settings: { ...teamsSettings, APPROVAL_SIGNING_KEY: undefined }, sender: FAST_SENDER });
    const fakeScan = { run: { tenantId: h.tenantId, scanId: 'scan-x', startedAt: new Date() }, totals: { findingsByRule: {}, ruleErrors: 0 }, changes: { opened: [], resolved: [], gone: [], stillOpen: 0 } };
    const pending = await h.open().approvals.list(h.tenantId, 'pending');
    expect(pending.length).toBeGreaterThan(0);
    const { context, lines } = capturingContext('nightly-scan', captured);
    const outcome = await notifier.postScanDigest({ tenantId: h.tenantId, scan: fakeScan as never, approvals: h.open().approvals }, loggerFrom(context));
    outcomes.push(outcome);
    expect(outcome.posted).toBe(true);
    expect(lines.some((line) => line.level === 'warning' && line.text.includes('APPROVAL_SIGNING_KEY is not set'))).toBe(true);
    const card = receiver.deliveries.at(-1)!;
    expect(JSON.stringify(card.card)).toContain(`Waiting for approval (${pending.length})`);
    expect(actions(card.card).some((action) => action.title === 'Approve…')).toBe(false);
  });

  describe('audit-warden scan', () => {
    const run = async (args: string[], settings: TeamsSettings) => {
      let stdout = '';
      let stderr = '';
      const io: CliIO = {
        stdout: { write: (text: string) => (stdout += text) },
        stderr: { write: (text: string) => (stderr += text) },
        env: { ...h.env, AzureWebJobsStorage: testStorageConnectionString(), ...settings },
        credential: h.credential,
      };
      const command = scanCommand(
        async () => new TableScanRecorder(h.store),
        scanDigestNotifier(() => h.open().approvals, { sender: FAST_SENDER }),
      );
      const code = await command.run(args, io);
      captured.push({ level: 'cli-stderr', text: stderr });
      return { code, stdout, stderr };
    };

    it('posts the digest after a stored scan when the webhook is configured; --no-notify and --no-store post nothing', async () => {
      const posted = receiver.deliveries.length;
      const stored = await run(['--quiet', '--no-plan'], teamsSettings);
      expect(stored.code).toBe(2);
      expect(receiver.deliveries).toHaveLength(posted + 1);
      expect(receiver.deliveries.at(-1)!.issues).toEqual([]);
      expect(stored.stderr).toMatch(/Posted a card to the Teams channel/);

      expect((await run(['--quiet', '--no-plan', '--no-notify'], teamsSettings)).code).toBe(2);
      expect((await run(['--quiet', '--no-store'], teamsSettings)).code).toBe(2);
      expect(receiver.deliveries).toHaveLength(posted + 1);
    });

    it('reports a failed post on stderr and still exits with the scan result', async () => {
      const failed = await run(['--quiet', '--no-plan'], { ...teamsSettings, TEAMS_WEBHOOK_URL: webhookSecrets.find((secret) => secret.includes('Revoked') && secret.startsWith('http'))! });
      expect(failed.code).toBe(2);
      expect(failed.stderr).toMatch(/error Could not post the scan digest to Teams/);
    });
  });

  it('no log line, error or card of any of the runs above contains the webhook URL or the signing key', () => {
    const haystack = [
      ...captured.map((line) => line.text),
      ...outcomes.map((outcome) => JSON.stringify(outcome)),
      ...receiver.deliveries.map((delivery) => JSON.stringify(delivery.payload)),
    ].join('\n');
    expect(haystack).toMatch(/Could not post/);
    expect(captured.filter((line) => line.level === 'cli-stderr')).toHaveLength(4);
    expect(haystack.length).toBeGreaterThan(1000);
    const keyBytes = Buffer.from(SIGNING_KEY, 'base64');
    for (const secret of [...webhookSecrets, SIGNING_KEY, keyBytes.toString('base64url'), keyBytes.toString('hex')]) {
      expect(haystack.includes(secret)).toBe(false);
    }
    // Hosts may be named; paths and queries of the webhook may not.
    expect(haystack).not.toMatch(/\/workflows\/[0-9a-f]{32}/);
  });
});
