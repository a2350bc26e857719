import { InvocationContext, type Timer } from '@azure/functions';
import { createQueueHandler } from '../../../functions/lib/queue-handlers';
import { nightlyScanHandler } from '../../../functions/scan-timer';
import { loggerFrom, silentLogger } from '../../../shared/logging';
import { MESSAGE_VERSION, REMEDIATIONS_QUEUE, VERIFICATIONS_QUEUE, type RemediationMessage } from '../../../shared/queue';
import { planRemediationFor } from '../../../shared/remediation/plan';
import { openScanEnvironment } from '../../../shared/app/scan-environment';
import { RemediationRetryError } from '../../../shared/services/remediation';
import { TableScanRecorder } from '../../../shared/store/recorder';
import { startHarness, type Harness } from '../../support/harness';
import { registrationsOf } from '../../support/registrations';

function context(functionName: string, triggerMetadata: Record<string, unknown> | undefined = { id: 'msg-1', dequeueCount: 1 }) {
  const lines: Array<{ level: string; args: unknown[] }> = [];
  const invocation = new InvocationContext({
    invocationId: `inv-${Math.random()}`,
    functionName,
    logHandler: (level, ...args) => lines.push({ level, args }),
    ...(triggerMetadata ? { triggerMetadata } : {}),
  });
  return { invocation, lines };
}

describe('queue-triggered remediation functions', () => {
  it.each([
    ['../../functions/remediation-worker', 'remediation-worker', 'remediations'],
    ['../../functions/verification-worker', 'verification-worker', 'verifications'],
    ['../../functions/remediation-poison', 'remediation-poison', 'remediations-poison'],
    ['../../functions/verification-poison', 'verification-poison', 'verifications-poison'],
  ])('%s registers one storage queue trigger, %s on %s', (path, name, queueName) => {
    const registrations = registrationsOf(path);
    expect(registrations).toHaveLength(1);
    expect(registrations[0]).toMatchObject({ kind: 'storageQueue', name, options: { queueName, connection: 'AzureWebJobsStorage' } });
    expect(typeof registrations[0]!.options.handler).toBe('function');
  });

  describe('handlers over the simulated tenant and Azurite', () => {
    let h: Harness;
    beforeAll(async () => {
      h = await startHarness({ seed: 5, mailboxes: 40 });
      await h.scan();
    });
    afterAll(async () => h.stop());

    async function message(): Promise<RemediationMessage> {
      // A different open finding each time: each test changes the one it takes.
      const open = (await h.findings('active')).filter((item) => item.status === 'open' && ['mailbox-audit-disabled', 'mailbox-audit-log-age-short'].includes(item.ruleId));
      const outcome = planRemediationFor(open[0]!, h.policy);
      if (outcome.kind !== 'plan') throw new Error('expected a plan');
      return { version: MESSAGE_VERSION, type: 'remediation', tenantId: h.tenantId, plan: outcome.plan, requestedBy: 'policy:auto', enqueuedAt: new Date().toISOString() };
    }

    it('applies a message as the host delivers it (decoded JSON) and queues its verification', async () => {
      const environment = h.open();
      const body = await message();
      h.sim.stats.reset();
      const { invocation, lines } = context('remediation-worker');
      await createQueueHandler({ kind: 'remediation' }, async () => environment.worker)(body, invocation);
      expect(h.sim.stats.cmdlets['Set-Mailbox']).toBe(1);
      expect(await environment.queues.approximateCount(VERIFICATIONS_QUEUE)).toBe(1);
      expect(lines.some((line) => line.args[0] === 'remediation applied')).toBe(true);

      const [verification] = await environment.queues.receive(VERIFICATIONS_QUEUE, 1, 30);
      const decoded: unknown = JSON.parse(Buffer.from(verification!.text, 'base64').toString('utf8'));
      await createQueueHandler({ kind: 'verification' }, async () => environment.worker)(decoded, context('verification-worker', { id: verification!.messageId, dequeueCount: 1 }).invocation);
      expect((await h.store.findings.get(h.tenantId, body.plan))?.status).toBe('resolved');
      await environment.queues.delete(VERIFICATIONS_QUEUE, verification!);
    });

    it('fails the invocation when the tenant throttles beyond the client\'s retries, so the host delivers it again', async () => {
      const environment = h.open({ exchangeRetry: { maxRetries: 0 } });
      h.sim.faults.enqueue({ api: 'exchange', kind: '429', times: 1 });
      const body = await message();
      await expect(createQueueHandler({ kind: 'remediation' }, async () => environment.worker)(body, context('remediation-worker', { id: 'msg-2', dequeueCount: 1 }).invocation)).rejects.toBeInstanceOf(RemediationRetryError);
      // The redelivery (same message id, dequeueCount 2) completes.
      await createQueueHandler({ kind: 'remediation' }, async () => environment.worker)(body, context('remediation-worker', { id: 'msg-2', dequeueCount: 2 }).invocation);
      expect((await environment.remediations.get(h.tenantId, body.plan.objectId, body.plan.idempotencyKey))?.status).toBe('applied');
    });

    it('records a malformed message and completes, so it is not retried; records a poison message as failed', async () => {
      const environment = h.open();
      const worker = async () => environment.worker;
      const { invocation, lines } = context('remediation-worker', { id: 'bad-1', dequeueCount: 1 });
      await expect(createQueueHandler({ kind: 'remediation' }, worker)({ version: 1, type: 'remediation' }, invocation)).resolves.toBeUndefined();
      expect(lines.some((line) => line.level === 'error' && line.args[0] === 'unreadable queue message recorded')).toBe(true);

      const body = await message();
      await createQueueHandler({ kind: 'poison', queue: 'remediations-poison' }, worker)(body, context('remediation-poison', { id: 'p-1', dequeueCount: 1 }).invocation);
      expect((await h.store.findings.get(h.tenantId, body.plan))?.status).toBe('failed');
      const letters = await environment.remediations.deadLetters(new Date().toISOString().slice(0, 7).replace('-', ''));
      expect(letters.map((letter) => letter.messageId).sort()).toEqual(['bad-1', 'p-1']);
    });

    it('refuses to run without the trigger metadata it needs', async () => {
      const environment = h.open();
      const { invocation } = context('remediation-worker', {});
      await expect(createQueueHandler({ kind: 'remediation' }, async () => environment.worker)(await message(), invocation)).rejects.toThrow(/trigger metadata/);
    });

    it('the nightly timer plans remediation after a completed stored scan', async () => {
      const environment = h.open();
      const timer: Timer = { isPastDue: false, schedule: { adjustForDST: true }, scheduleStatus: { last: '', next: '', lastUpdated: '' } };
      const night = async (invocation: InvocationContext) => {
        const scan = await openScanEnvironment(h.settings, h.policy, { store: true, logger: silentLogger, credential: h.credential, openRecorder: async () => new TableScanRecorder(h.store) });
        const logger = loggerFrom(invocation);
        return { tenantId: h.settings.AZURE_TENANT_ID, policy: h.policy, reader: scan.reader, recorder: scan.recorder, logger, planning: { ...environment.services, logger } };
      };
      const { invocation, lines } = context('nightly-scan', undefined);
      await nightlyScanHandler(night)(timer, invocation);
      const summary = lines.find((line) => line.args[0] === 'nightly remediation plan');
      expect(summary?.args[1]).toMatchObject({ paused: false, enqueued: expect.any(Number) });
      expect((summary!.args[1] as { enqueued: number }).enqueued).toBeGreaterThan(0);
      expect(await environment.queues.approximateCount(REMEDIATIONS_QUEUE)).toBeGreaterThan(0);
    });
  });
});
