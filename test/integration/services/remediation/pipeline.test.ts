import { QueueServiceClient } from '@azure/storage-queue';
import { findingKey } from '../../../../shared/domain/finding';
import { MESSAGE_VERSION, parseQueueMessage, REMEDIATIONS_QUEUE, type RemediationMessage } from '../../../../shared/queue';
import { planRemediationFor } from '../../../../shared/remediation/plan';
import { enqueuePlans, planRemediation } from '../../../../shared/services/remediation';
import type { RemediationEnvironment } from '../../../../shared/app/remediation-environment';
import type { StoredFinding } from '../../../../shared/store/model';
import { testStorageConnectionString } from '../../../support/storage';
import { startHarness, type Harness } from '../../../support/harness';

/** What the Functions host does with a message before the function sees it (messageEncoding base64). */
function decodeAsTheHostDoes(text: string): unknown {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) throw new Error('the host cannot base64-decode this message');
  const decoded = Buffer.from(text, 'base64').toString('utf8');
  return JSON.parse(decoded);
}

async function auditDisabledFindings(h: Harness): Promise<StoredFinding[]> {
  return (await h.findings('active')).filter((finding) => finding.ruleId === 'mailbox-audit-disabled');
}

function planOf(h: Harness, finding: StoredFinding) {
  const outcome = planRemediationFor(finding, h.policy);
  if (outcome.kind !== 'plan') throw new Error('expected a plan');
  return outcome.plan;
}

function messageFor(h: Harness, finding: StoredFinding): RemediationMessage {
  return { version: MESSAGE_VERSION, type: 'remediation', tenantId: h.tenantId, plan: planOf(h, finding), requestedBy: 'cli:test', enqueuedAt: new Date().toISOString() };
}

async function eventTypes(h: Harness, finding: StoredFinding): Promise<string[]> {
  return (await h.events(finding.objectId)).filter((event) => event.ruleId === finding.ruleId).map((event) => event.type).reverse();
}

async function ledger(environment: RemediationEnvironment, h: Harness, finding: StoredFinding) {
  const plan = planOf(h, finding);
  return environment.remediations.get(h.tenantId, plan.objectId, plan.idempotencyKey);
}

describe('the remediation queue pipeline', () => {
  let h: Harness;
  afterEach(async () => h?.stop());

  it('enqueues base64 JSON that decodes exactly as the Functions host decodes it', async () => {
    h = await startHarness({ seed: 5, mailboxes: 40 });
    await h.scan();
    const environment = h.open();
    const [finding] = await auditDisabledFindings(h);
    const plan = planOf(h, finding!);
    await enqueuePlans(environment.services, [plan], 'cli:test', undefined, new Date());

    const raw = QueueServiceClient.fromConnectionString(testStorageConnectionString()).getQueueClient(h.queues.nameOf(REMEDIATIONS_QUEUE));
    const [item] = (await raw.receiveMessages({ numberOfMessages: 1 })).receivedMessageItems;
    expect(() => JSON.parse(item!.messageText)).toThrow();
    const hostView = decodeAsTheHostDoes(item!.messageText);
    const message = parseQueueMessage(hostView, 'remediation');
    expect(message.plan).toEqual(plan);
    expect(message.plan.description).toBe(`Set-Mailbox -Identity '${finding!.objectId}' -AuditEnabled $true`);
  });

  it('applies a message delivered twice once, and records it once', async () => {
    h = await startHarness({ seed: 5, mailboxes: 40 });
    await h.scan();
    const environment = h.open();
    const [finding] = await auditDisabledFindings(h);
    const message = messageFor(h, finding!);
    await environment.queues.send(REMEDIATIONS_QUEUE, message);
    await environment.queues.send(REMEDIATIONS_QUEUE, message);
    h.sim.stats.reset();

    const drained = await h.drain(environment);
    expect(h.sim.stats.cmdlets['Set-Mailbox']).toBe(1);
    expect(drained.counts).toMatchObject({ applied: 1, verified: 1 });
    expect(drained.counts.duplicate).toBeGreaterThanOrEqual(1);
    expect(await eventTypes(h, finding!)).toEqual(['detected', 'remediated', 'verified']);
    expect((await h.store.findings.get(h.tenantId, finding!))?.status).toBe('resolved');
  });

  it('converges when the worker dies between the Exchange call and the record: no second call, one record', async () => {
    h = await startHarness({ seed: 5, mailboxes: 40 });
    await h.scan();
    let crashes = 0;
    const environment = h.open({
      afterApply: () => {
        if (crashes++ === 0) throw new Error('process killed after Set-Mailbox');
      },
    });
    const [finding] = await auditDisabledFindings(h);
    await environment.queues.send(REMEDIATIONS_QUEUE, messageFor(h, finding!));
    h.sim.stats.reset();

    const drained = await h.drain(environment);
    expect(drained.counts).toMatchObject({ errors: 1, 'already-in-place': 1, verified: 1 });
    expect(h.sim.stats.cmdlets['Set-Mailbox']).toBe(1);
    expect(await ledger(environment, h, finding!)).toMatchObject({ status: 'verified', alreadyInPlace: true, attempts: 2 });
    expect(await eventTypes(h, finding!)).toEqual(['detected', 'remediated', 'verified']);
  });

  it('rides out a storm of 429s and the per-tenant concurrency error', async () => {
    h = await startHarness({ seed: 5, mailboxes: 120 }, { server: { concurrencyLimit: 2, latencyMs: 5 }, settings: { EXCHANGE_MAX_CONCURRENCY: '8' } });
    await h.scan();
    const environment = h.open();
    h.sim.faults.enqueue({ api: 'exchange', kind: '429', times: 25 });
    h.sim.stats.reset();
    const plan = await planRemediation(environment.services, { requestedBy: 'cli:test' });
    expect(plan.enqueued).toBeGreaterThan(5);

    const drained = await h.drain(environment, { concurrency: 16 });
    expect(drained.counts.poisoned ?? 0).toBe(0);
    expect(drained.counts.verified).toBe(plan.enqueued - (drained.counts.blocked ?? 0));
    expect(h.sim.stats.faults.byKind['429']).toBe(25);
    expect(h.sim.stats.concurrencyRejections).toBeGreaterThan(0);
    expect(environment.usage.throttled).toBeGreaterThanOrEqual(25 + h.sim.stats.concurrencyRejections);
  }, 60_000);

  it('ends a change Exchange refuses as blocked, with Exchange\'s message, and remembers the refusal for the next scan', async () => {
    h = await startHarness({ seed: 11, mailboxes: 60 });
    await h.scan();
    const environment = h.open();
    const licence = (await h.findings('active')).find((finding) => finding.ruleId === 'licence-inherited-blocks-mia')!;
    const mia = (await h.findings('active')).find((finding) => finding.ruleId === 'mailitemsaccessed-missing' && finding.objectId === licence.objectId)!;
    await enqueuePlans(environment.services, [planOf(h, mia)], 'cli:test', undefined, new Date());
    const drained = await h.drain(environment);
    expect(drained.counts).toMatchObject({ blocked: 1 });
    expect(await ledger(environment, h, mia)).toMatchObject({
      status: 'blocked',
      serviceMessage: 'Auditing of MailItemsAccessed event is only available for users with appropriate license. Please visit the documentation to know more about this.',
    });
    expect((await h.store.findings.get(h.tenantId, mia))?.status).toBe('blocked');
    expect((await h.store.mailboxes.current(h.tenantId, mia.objectId))?.miaRefusedReason).toMatch(/appropriate license/);
    // The next scan reads the refusal (ScanMemory) and the licence rule keeps reporting the mailbox.
    const next = await h.scan();
    expect(next.totals.findingsByRule['licence-inherited-blocks-mia']).toBeGreaterThan(0);
  });

  it('moves a message that keeps failing to the poison queue and records it as failed', async () => {
    h = await startHarness({ seed: 5, mailboxes: 40 });
    await h.scan();
    const environment = h.open({
      afterApply: () => {
        throw new Error('the worker keeps dying');
      },
    });
    const [finding] = await auditDisabledFindings(h);
    await environment.queues.send(REMEDIATIONS_QUEUE, messageFor(h, finding!));
    const drained = await h.drain(environment);
    expect(drained.counts).toMatchObject({ errors: 5, poisoned: 1, 'recorded-poison': 1 });
    expect(h.sim.stats.cmdlets['Set-Mailbox']).toBe(1);
    expect(await ledger(environment, h, finding!)).toMatchObject({ status: 'failed', reason: expect.stringMatching(/failed 5 deliveries/) });
    expect((await h.store.findings.get(h.tenantId, finding!))?.status).toBe('failed');
    const letters = await environment.remediations.deadLetters(new Date().toISOString().slice(0, 7).replace('-', ''));
    expect(letters).toEqual([expect.objectContaining({ queue: 'remediations-poison', idempotencyKey: planOf(h, finding!).idempotencyKey })]);
  });

  it('records malformed messages with a clear error and carries on with the good ones', async () => {
    h = await startHarness({ seed: 5, mailboxes: 40 });
    await h.scan();
    const environment = h.open();
    const [finding] = await auditDisabledFindings(h);
    const good = messageFor(h, finding!);
    const b64 = (text: string) => Buffer.from(text).toString('base64');
    const bad = [
      'this is not base64!',
      b64('this is not JSON'),
      b64(JSON.stringify({ version: 1, type: 'remediation', tenantId: h.tenantId })),
      b64(JSON.stringify({ ...good, version: 2 })),
      b64(JSON.stringify({ ...good, tenantId: '11111111-2222-3333-4444-555555555555' })),
      b64(JSON.stringify({ ...good, plan: { ...good.plan, change: { kind: 'set-mailbox', identity: finding!.objectId, auditEnabled: false } } })),
    ];
    for (const text of bad) await environment.queues.sendRaw(REMEDIATIONS_QUEUE, text);
    await environment.queues.send(REMEDIATIONS_QUEUE, good);

    const drained = await h.drain(environment);
    expect(drained.counts).toMatchObject({ 'rejected-message': bad.length, applied: 1, verified: 1 });
    const letters = await environment.remediations.deadLetters(new Date().toISOString().slice(0, 7).replace('-', ''));
    const errors = letters.map((letter) => letter.error);
    expect(errors).toHaveLength(bad.length);
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^The message is not base64/),
        expect.stringMatching(/^The remediation message is not JSON: "this is not JSON"/),
        expect.stringMatching(/^The remediation message has version 2; this worker reads version 1 only/),
        expect.stringMatching(/^The message is for tenant 11111111-2222-3333-4444-555555555555/),
      ]),
    );
    expect(errors.filter((error) => /does not have the expected shape/.test(error))).toHaveLength(2);
    const shape = letters.find((letter) => letter.issues.some((issue) => issue.startsWith('plan.change')));
    expect(shape?.issues.join('\n')).toMatch(/plan\.change\.auditEnabled/);
  });

  it('sends auto changes over the blast-radius limit for approval, across planning runs of the same night', async () => {
    h = await startHarness({ seed: 5, mailboxes: 200 }, { policy: { blastRadiusLimit: 4 } });
    await h.scan();
    const environment = h.open();
    // --limit: a careful first step; the rest stays open for the next run.
    const careful = await planRemediation(environment.services, { requestedBy: 'cli:test', ruleId: 'mailbox-audit-log-age-short', limit: 1 });
    expect(careful).toMatchObject({ enqueued: 1, approvalRequests: [], blastRadius: { usedBefore: 0, granted: 1, overflow: 0 } });
    expect(careful.deferred).toBeGreaterThan(4);

    const first = await planRemediation(environment.services, { requestedBy: 'cli:test', ruleId: 'mailbox-audit-log-age-short' });
    expect(first.blastRadius).toMatchObject({ limit: 4, usedBefore: 1, granted: 3 });
    expect(first.enqueued).toBe(3);
    expect(first.approvalRequests).toHaveLength(1);
    expect(first.approvalRequests[0]!.reason).toMatch(/over the blast-radius limit of 4/);
    expect(first.approvalRequests[0]!.plans).toHaveLength(first.blastRadius.overflow);

    const second = await planRemediation(environment.services, { requestedBy: 'cli:test', ruleId: 'mailbox-audit-disabled' });
    expect(second.blastRadius).toMatchObject({ usedBefore: 4, granted: 0 });
    expect(second.enqueued).toBe(0);
    expect(second.approvalRequests.flatMap((request) => request.plans)).toHaveLength(second.blastRadius.overflow);
    const statuses = new Set((await auditDisabledFindings(h)).map((finding) => finding.status));
    expect([...statuses]).toEqual(['awaiting-approval']);
  });

  it('changes nothing while REMEDIATION_PAUSED is set: nothing is enqueued, and queued messages are cancelled', async () => {
    h = await startHarness({ seed: 5, mailboxes: 40 });
    await h.scan();
    const paused = h.open({}, { paused: true });
    const report = await planRemediation(paused.services, { requestedBy: 'scan:paused' });
    expect(report).toMatchObject({ paused: true, enqueued: 0, approvalRequests: [] });
    expect(report.changes.length).toBeGreaterThan(0);
    expect(await paused.queues.approximateCount(REMEDIATIONS_QUEUE)).toBe(0);

    // A message queued before the pause is not applied; its finding goes back to planning.
    const [finding] = await auditDisabledFindings(h);
    await enqueuePlans(h.open().services, [planOf(h, finding!)], 'cli:test', undefined, new Date());
    h.sim.stats.reset();
    const drained = await h.drain(paused);
    expect(drained.counts).toMatchObject({ cancelled: 1 });
    expect(h.sim.stats.cmdlets['Set-Mailbox']).toBeUndefined();
    expect((await h.store.findings.get(h.tenantId, finding!))?.status).toBe('open');
    expect(await ledger(paused, h, finding!)).toMatchObject({ status: 'cancelled', reason: expect.stringMatching(/REMEDIATION_PAUSED/) });

    // After the pause, the next planning run queues it again and it is applied.
    const resumed = h.open();
    const again = await planRemediation(resumed.services, { requestedBy: 'cli:test', ruleId: 'mailbox-audit-disabled' });
    expect(again.enqueued).toBeGreaterThan(0);
    await h.drain(resumed);
    expect((await h.store.findings.get(h.tenantId, finding!))?.status).toBe('resolved');
    expect(findingKey(finding!)).toBe(finding!.key);
  });
});
