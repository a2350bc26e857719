import { findingKey } from '../../../../shared/domain/finding';
import { planRemediationFor } from '../../../../shared/remediation/plan';
import { enqueuePlans, planRemediation } from '../../../../shared/services/remediation';
import type { StoredFinding } from '../../../../shared/store/model';
import { ALREADY_AUDITED_ERROR, alreadyAuditedResponse, assignUserLicences, MIA_LICENCE_ERROR, setAuditActions, SKU_E5, type LogonType } from '../../../../sim';
import { startHarness, type Harness } from '../../../support/harness';

const MIA = 'mailitemsaccessed-missing' as const;

function planOf(h: Harness, finding: StoredFinding) {
  const outcome = planRemediationFor(finding, h.policy);
  if (outcome.kind !== 'plan') throw new Error(`expected a plan for ${finding.key}`);
  return outcome.plan;
}

function setMailboxCalls(h: Harness, objectId?: string) {
  return h.sim.received.cmdlets.filter((call) => call.cmdlet === 'Set-Mailbox' && (objectId === undefined || call.parameters.Identity === objectId));
}

describe('Exchange refusing MailItemsAccessed for want of a licence', () => {
  let h: Harness;
  afterEach(async () => h?.stop());

  it('ends the change blocked with Exchange\'s message, once: the next night neither sends it again nor spends blast radius on it', async () => {
    // The pre-2024 licence model: Exchange refuses MailItemsAccessed on E3 and shared mailboxes,
    // while the default policy requires it everywhere.
    h = await startHarness({ seed: 11, mailboxes: 30, licenceModel: '2023' }, { policy: { blastRadiusLimit: 1000 } });
    await h.scan();
    const environment = h.open();

    const night1 = await planRemediation(environment.services, { requestedBy: 'scan:n1', ruleId: MIA });
    const drained = await h.drain(environment);
    const blocked = drained.counts.blocked ?? 0;
    expect(blocked).toBeGreaterThan(0);
    expect(drained.counts.verified ?? 0).toBeGreaterThan(0);
    expect(night1.blastRadius.granted).toBe(blocked + (drained.counts.verified ?? 0));

    // Blocked with Exchange's own words, in the finding's history and in the ledger.
    const refused = (await h.findings('blocked')).filter((finding) => finding.ruleId === MIA);
    expect(refused).toHaveLength(blocked);
    const [one] = refused;
    const record = await environment.remediations.get(h.tenantId, one!.objectId, planOf(h, one!).idempotencyKey);
    expect(record).toMatchObject({ status: 'blocked', serviceMessage: MIA_LICENCE_ERROR, budgetReleased: true });
    const event = (await h.events(one!.objectId)).find((item) => item.type === 'blocked' && item.ruleId === MIA && item.logonType === one!.logonType);
    expect(event?.reason).toBe(MIA_LICENCE_ERROR);
    expect((await h.store.mailboxes.current(h.tenantId, one!.objectId))?.miaRefusedReason).toBe(MIA_LICENCE_ERROR);

    // Blocked changes changed nothing, so they spent none of the night's blast radius.
    expect(await environment.remediations.usedAutoChanges(h.tenantId, new Date())).toBe(night1.blastRadius.granted - blocked);

    // The next night: a scan, then remediate. Nothing changed for those mailboxes: not sent again.
    await h.scan();
    h.sim.received.clear();
    const night2 = await planRemediation(environment.services, { requestedBy: 'scan:n2' });
    expect(night2.blastRadius.usedBefore).toBe(night1.blastRadius.granted - blocked);
    const planned = new Set(night2.changes.map((change) => change.plan.findingKey));
    for (const finding of refused) expect(planned.has(finding.key)).toBe(false);
    expect(night2.retriedAfterLicenceChange).toBe(0);
    await h.drain(environment);
    const refusedMailboxes = new Set(refused.map((finding) => finding.objectId));
    const resent = setMailboxCalls(h).filter((call) => refusedMailboxes.has(String(call.parameters.Identity)) && JSON.stringify(call.parameters).includes('MailItemsAccessed'));
    expect(resent).toEqual([]);
    // They stay blocked — except where the night's licence reprocess changed the mailbox's licence,
    // which reopens them for one more attempt on the following night.
    const reprocessed = new Set(h.sim.received.reprocessLicenseAssignment.map((call) => call.userId));
    const untouched = refused.filter((finding) => !reprocessed.has(finding.objectId));
    expect(untouched.length).toBeGreaterThan(0);
    for (const finding of untouched) expect((await h.store.findings.get(h.tenantId, finding))?.status).toBe('blocked');
    for (const finding of refused.filter((item) => reprocessed.has(item.objectId))) {
      expect((await h.store.findings.get(h.tenantId, finding))?.metadata.unblockedBy).toBeDefined();
    }
  }, 60_000);

  it('does not send, and blocks without spending blast radius, an addition Exchange already refused for the mailbox', async () => {
    h = await startHarness({ seed: 11, mailboxes: 30, licenceModel: '2023' });
    await h.scan();
    const environment = h.open();
    await planRemediation(environment.services, { requestedBy: 'scan:n1', ruleId: MIA });
    await h.drain(environment);
    const [first, second] = (await h.findings('blocked')).filter((finding) => finding.ruleId === MIA);

    // The planner: a finding open again (say, a new episode) on a mailbox whose refusal holds is
    // blocked with Exchange's words, not queued.
    await h.store.findings.update(h.tenantId, first!, (current) => ({ status: 'open', metadata: { ...current.metadata } }));
    h.sim.received.clear();
    const night2 = await planRemediation(environment.services, { requestedBy: 'scan:n2', ruleId: MIA, mailbox: first!.objectId });
    expect(night2).toMatchObject({ refusedEarlier: 1, enqueued: 0, blastRadius: { granted: 0 } });
    expect(night2.changes).toEqual([]);
    expect((await h.store.findings.get(h.tenantId, first!))?.status).toBe('blocked');
    const events = (await h.events(first!.objectId)).filter((event) => event.type === 'blocked' && event.logonType === first!.logonType);
    expect(events[0]).toMatchObject({ actor: 'scan:n2', reason: MIA_LICENCE_ERROR, details: expect.objectContaining({ licenceRefusal: true }) });

    // The worker: a message already queued for such a change ends blocked without calling Exchange.
    await enqueuePlans(environment.services, [planOf(h, second!)], 'cli:test', undefined, new Date());
    const drained = await h.drain(environment);
    expect(drained.counts).toMatchObject({ blocked: 1 });
    expect(setMailboxCalls(h)).toEqual([]);
    const record = await environment.remediations.get(h.tenantId, second!.objectId, planOf(h, second!).idempotencyKey);
    expect(record).toMatchObject({ status: 'blocked', serviceMessage: MIA_LICENCE_ERROR, reason: expect.stringMatching(/^Not sent: Exchange refused MailItemsAccessed/) });
  }, 60_000);

  it('asks Exchange again once the mailbox\'s licence changed, and not before', async () => {
    h = await startHarness({ seed: 11, mailboxes: 30, licenceModel: '2023' });
    await h.scan();
    const environment = h.open();
    await planRemediation(environment.services, { requestedBy: 'scan:n1', ruleId: MIA });
    await h.drain(environment);

    // An E3 user whose Owner list was customised without MailItemsAccessed: licensing E5 brings it
    // back to the managed logon types but not to the customised one, which stays blocked.
    const e3 = h.sim.tenant.users.find((user) => {
      const mailbox = h.sim.tenant.mailboxes[user.index]!;
      return user.licences.length > 0 && user.licences.every((licence) => licence.skuId !== SKU_E5.skuId) && !mailbox.defaultAuditSet.includes('Owner');
    })!;
    const owner = { ruleId: MIA, objectId: e3.id, logonType: 'Owner' as const };
    expect((await h.store.findings.get(h.tenantId, owner))?.status).toBe('blocked');
    assignUserLicences(h.sim.tenant, e3, { addLicenses: [{ skuId: SKU_E5.skuId, disabledPlans: [] }], removeLicenses: [] });

    await h.scan();
    h.sim.received.clear();
    const night2 = await planRemediation(environment.services, { requestedBy: 'scan:n2', ruleId: MIA });
    expect(night2.retriedAfterLicenceChange).toBe(1);
    expect(night2.changes.map((change) => change.plan.findingKey)).toEqual([findingKey(owner)]);
    const drained = await h.drain(environment);
    expect(drained.counts).toMatchObject({ verified: 1 });
    expect(setMailboxCalls(h, e3.id)).toHaveLength(1);
    expect((await h.store.findings.get(h.tenantId, owner))?.status).toBe('resolved');
    // Exchange accepted it: the refusal no longer holds.
    expect((await h.store.mailboxes.current(h.tenantId, e3.id))?.miaRefusedAt).toBeUndefined();
  }, 60_000);
});

describe('adding an action that is already audited', () => {
  let h: Harness;
  afterEach(async () => h?.stop());

  it.each(['error', 'warning'] as const)('ends as success when Exchange answers with the %s, after the re-read finds the action', async (kind) => {
    h = await startHarness({ seed: 7, mailboxes: 200 });
    await h.scan();
    const environment = h.open();
    const tenant = h.sim.tenant;
    // A MailItemsAccessed finding on a mailbox that answers this way; the action is then added
    // behind the scanner's back, so Audit Warden's @{Add=…} meets it already there.
    const finding = (await h.findings('open')).find((item) => {
      if (item.ruleId !== MIA) return false;
      const mailbox = tenant.mailboxes.find((candidate) => candidate.user.id === item.objectId);
      // Not a group-licensing failure: Exchange would refuse that mailbox's other logon types.
      return mailbox !== undefined && !mailbox.user.groupProvisioningFailed && alreadyAuditedResponse(tenant, mailbox) === kind;
    });
    if (!finding) throw new Error(`no mailbox answers "already audited" with the ${kind}; pick another seed`);
    const mailbox = tenant.mailboxes.find((candidate) => candidate.user.id === finding.objectId)!;
    const logonType = finding.logonType as LogonType;
    setAuditActions(tenant, mailbox, logonType, [...mailbox.audit[logonType], 'MailItemsAccessed']);

    h.sim.received.clear();
    await planRemediation(environment.services, { requestedBy: 'cli:test', mailbox: finding.objectId, ruleId: MIA });
    const drained = await h.drain(environment);
    expect(drained.counts).toMatchObject({ applied: 1, verified: 1 });
    expect(drained.counts.blocked ?? 0).toBe(0);
    const record = await environment.remediations.get(h.tenantId, finding.objectId, planOf(h, finding).idempotencyKey);
    expect(record?.status).toBe('verified');
    if (kind === 'error') expect(record?.warnings).toEqual([ALREADY_AUDITED_ERROR]);
    else expect(record?.warnings).toEqual([expect.stringMatching(/no settings of .* have been modified/)]);
    expect(setMailboxCalls(h, finding.objectId)).toHaveLength(1);
    expect((await h.store.findings.get(h.tenantId, finding))?.status).toBe('resolved');
  }, 60_000);

  it('sends again only what is missing when "already audited" stopped a call that also added something new', async () => {
    h = await startHarness({ seed: 7, mailboxes: 200 });
    const tenant = h.sim.tenant;
    // A user mailbox that answers with the error; its Delegate list loses two actions before the scan.
    const mailbox = tenant.mailboxes.find(
      (candidate) => candidate.recipientTypeDetails === 'UserMailbox' && candidate.drift === null && alreadyAuditedResponse(tenant, candidate) === 'error',
    )!;
    setAuditActions(tenant, mailbox, 'Delegate', mailbox.audit.Delegate.filter((action) => action !== 'HardDelete' && action !== 'SoftDelete'));
    await h.scan();
    const finding = await h.store.findings.get(h.tenantId, { ruleId: 'audit-actions-missing', objectId: mailbox.user.id, logonType: 'Delegate' });
    expect(finding?.expected).toEqual(['HardDelete', 'SoftDelete']);
    // Someone puts one of them back before Audit Warden gets there.
    setAuditActions(tenant, mailbox, 'Delegate', [...mailbox.audit.Delegate, 'HardDelete']);

    const environment = h.open();
    h.sim.received.clear();
    await planRemediation(environment.services, { requestedBy: 'cli:test', mailbox: mailbox.user.id, ruleId: 'audit-actions-missing' });
    const drained = await h.drain(environment);
    expect(drained.counts).toMatchObject({ applied: 1, verified: 1 });
    const calls = setMailboxCalls(h, mailbox.user.id);
    expect(calls.map((call) => (call.parameters.AuditDelegate as { Add: string[] }).Add)).toEqual([['HardDelete', 'SoftDelete'], ['SoftDelete']]);
    const record = await environment.remediations.get(h.tenantId, mailbox.user.id, planOf(h, finding!).idempotencyKey);
    expect(record).toMatchObject({ status: 'verified', warnings: [ALREADY_AUDITED_ERROR], sent: { call: 'Set-Mailbox', parameters: { AuditDelegate: { Add: ['SoftDelete'] } } } });
  }, 60_000);
});
