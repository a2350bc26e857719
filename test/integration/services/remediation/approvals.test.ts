import { approve, planRemediation } from '../../../../shared/services/remediation';
import { ApprovalStateError } from '../../../../shared/store/approvals';
import { startHarness, type Harness } from '../../../support/harness';

describe('approval requests', () => {
  let h: Harness;
  afterEach(async () => h?.stop());

  it('are single use: of two approvers deciding at once, one wins and the other is told who', async () => {
    h = await startHarness({ seed: 11, mailboxes: 60, orgAuditDisabled: true });
    await h.scan();
    const environment = h.open();
    const plan = await planRemediation(environment.services, { requestedBy: 'scan:n1', ruleId: 'org-audit-disabled' });
    const [request] = plan.approvalRequests;
    expect(request).toMatchObject({ status: 'pending', plans: [expect.objectContaining({ ruleId: 'org-audit-disabled' })] });
    expect(request!.expiresAt.getTime() - request!.createdAt.getTime()).toBe(72 * 3600 * 1000);

    const results = await Promise.allSettled([
      approve(environment.services, request!.requestId, 'alice@contoso.example'),
      approve(environment.services, request!.requestId, 'bob@contoso.example'),
    ]);
    const won = results.filter((result) => result.status === 'fulfilled');
    const lost = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]!.reason).toBeInstanceOf(ApprovalStateError);
    expect(String(lost[0]!.reason.message)).toMatch(/already approved by (alice|bob)@contoso\.example at /);
    expect(await h.queues.approximateCount('remediations')).toBe(1);
    const org = (await h.findings('active')).find((finding) => finding.ruleId === 'org-audit-disabled')!;
    expect((await h.events(org.objectId)).filter((event) => event.type === 'approved')).toHaveLength(1);
  });

  it('expire undecided, and the next planning run asks again', async () => {
    h = await startHarness({ seed: 11, mailboxes: 60, orgAuditDisabled: true });
    await h.scan();
    let now = new Date();
    const environment = h.open({ clock: () => now });
    const first = await planRemediation(environment.services, { requestedBy: 'scan:n1', ruleId: 'org-audit-disabled' });
    const requestId = first.approvalRequests[0]!.requestId;
    now = new Date(now.getTime() + 73 * 3600 * 1000);
    await expect(approve(environment.services, requestId, 'alice@contoso.example')).rejects.toThrow(/expired at .*; nothing was changed/);
    const second = await planRemediation(environment.services, { requestedBy: 'scan:n4', ruleId: 'org-audit-disabled' });
    expect(second.approvalRequests).toHaveLength(1);
    expect(second.approvalRequests[0]!.requestId).not.toBe(requestId);
    expect(h.sim.tenant.organization.auditDisabled).toBe(true);
  });

  it('refuse to approve one finding of a request that covers several; the request is approved as a whole', async () => {
    h = await startHarness({ seed: 5, mailboxes: 120 }, { policy: { blastRadiusLimit: 0 } });
    await h.scan();
    const environment = h.open();
    const plan = await planRemediation(environment.services, { requestedBy: 'scan:n1', ruleId: 'mailbox-audit-log-age-short' });
    const [request] = plan.approvalRequests;
    expect(request!.plans.length).toBeGreaterThan(1);
    await expect(approve(environment.services, request!.plans[0]!.findingKey, 'alice@contoso.example')).rejects.toThrow(
      new RegExp(`one of ${request!.plans.length} changes in approval request ${request!.requestId}`),
    );
    const decision = await approve(environment.services, request!.requestId, 'alice@contoso.example');
    expect(decision.enqueued).toBe(request!.plans.length);
  });

  it('while paused, record the approval and leave the change for the first planning run after the pause', async () => {
    h = await startHarness({ seed: 11, mailboxes: 60, orgAuditDisabled: true });
    await h.scan();
    const running = h.open();
    const plan = await planRemediation(running.services, { requestedBy: 'scan:n1', ruleId: 'org-audit-disabled' });
    const paused = h.open({}, { paused: true });
    const decision = await approve(paused.services, plan.approvalRequests[0]!.requestId, 'alice@contoso.example');
    expect(decision).toMatchObject({ paused: true, enqueued: 0 });
    expect(await h.queues.approximateCount('remediations')).toBe(0);

    const resumed = await planRemediation(running.services, { requestedBy: 'scan:n2', ruleId: 'org-audit-disabled' });
    expect(resumed).toMatchObject({ enqueued: 1, approvalRequests: [] });
    await h.drain(running);
    expect(h.sim.tenant.organization.auditDisabled).toBe(false);
  });
});
