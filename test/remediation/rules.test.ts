import { findingKey, type RuleId } from '../../shared/domain/finding';
import { approve, planRemediation } from '../../shared/services/remediation';
import { groundTruth, MIA_LICENCE_ERROR } from '../../sim';
import { startHarness, type Harness } from './helpers';

const REPORT_ONLY: RuleId[] = ['advanced-auditing-plan-missing', 'default-audit-set-customised'];

describe('remediation of every rule against the simulated tenant', () => {
  let h: Harness;
  afterEach(async () => h?.stop());

  it('applies and verifies each rule\'s fix; a fresh scan finds only report-only drift and what is blocked', async () => {
    h = await startHarness({ seed: 11, mailboxes: 60, orgAuditDisabled: true });
    const first = await h.scan();
    expect(Object.keys(first.totals.findingsByRule).length).toBeGreaterThanOrEqual(8);

    const environment = h.open();
    const plan = await planRemediation(environment.services, { requestedBy: 'scan:night-1' });
    expect(plan.enqueued).toBeGreaterThan(0);
    expect(plan.advice.map((advice) => advice.ruleId)).toEqual(expect.arrayContaining(REPORT_ONLY));
    const approvalRules = [...new Set(plan.approvalRequests.flatMap((request) => request.ruleIds))].sort();
    expect(approvalRules).toEqual(['audit-bypass-enabled', 'licence-inherited-blocks-mia', 'org-audit-disabled']);
    for (const request of plan.approvalRequests) {
      const decision = await approve(environment.services, request.requestId, 'alice@contoso.example');
      expect(decision.enqueued).toBe(1);
    }

    const drained = await h.drain(environment);
    expect(drained).toMatchObject({ timedOut: false, remaining: 0 });
    expect(drained.counts.errors ?? 0).toBe(0);

    // Every rule with a fix has at least one change applied and verified.
    const verifiedRules = new Set<string>();
    for await (const record of environment.remediations.list(h.tenantId)) if (record.status === 'verified') verifiedRules.add(record.ruleId);
    expect([...verifiedRules].sort()).toEqual([
      'audit-actions-missing',
      'audit-bypass-enabled',
      'licence-inherited-blocks-mia',
      'mailbox-audit-disabled',
      'mailitemsaccessed-missing',
      'org-audit-disabled',
      'retention-too-short',
    ]);
    expect(h.sim.tenant.organization.auditDisabled).toBe(false);

    // A fresh scan agrees with the tenant's own record of its drift, and all that is left is
    // report-only rules and users whose licence could not be assigned (no usage location).
    const second = await h.scan();
    expect(second.changes.resolved.length).toBeGreaterThan(0);
    const remaining = await h.findings('active');
    expect(remaining.map((finding) => finding.key).sort()).toEqual(groundTruth(h.sim.tenant).map(findingKey).sort());
    const noUsageLocation = new Set(h.sim.tenant.users.filter((user) => user.usageLocation === null).map((user) => user.id));
    for (const finding of remaining) {
      if (REPORT_ONLY.includes(finding.ruleId)) expect(finding.status).toBe('open');
      else {
        expect(noUsageLocation.has(finding.objectId)).toBe(true);
        expect(finding.status).toBe('blocked');
      }
    }

    // The history of one fixed finding, with who and why.
    const fixed = (await h.findings('resolved')).find((finding) => finding.ruleId === 'mailbox-audit-disabled')!;
    const history = (await h.events(fixed.objectId)).filter((event) => event.ruleId === 'mailbox-audit-disabled');
    expect(history.map((event) => event.type).reverse()).toEqual(['detected', 'remediated', 'verified']);
    expect(history.find((event) => event.type === 'remediated')).toMatchObject({
      actor: 'scan:night-1',
      reason: `Set-Mailbox -Identity '${fixed.objectId}' -AuditEnabled $true`,
    });

    // Blocked: Exchange's own words, and the licence rule's reason.
    const blocked = remaining.filter((finding) => finding.status === 'blocked');
    const blockedMia = blocked.find((finding) => finding.ruleId === 'mailitemsaccessed-missing')!;
    const miaEvents = await h.events(blockedMia.objectId);
    expect(miaEvents.find((event) => event.type === 'blocked' && event.ruleId === 'mailitemsaccessed-missing')?.reason).toBe(MIA_LICENCE_ERROR);
    expect(miaEvents.find((event) => event.type === 'blocked' && event.ruleId === 'licence-inherited-blocks-mia')?.reason).toMatch(/no usage location/);
    expect(miaEvents.find((event) => event.type === 'approved')).toMatchObject({ actor: 'alice@contoso.example' });
    expect((await h.store.mailboxes.current(h.tenantId, blockedMia.objectId))?.miaRefusedAt).toBeTruthy();
  }, 60_000);

  it('restores Microsoft\'s managed set when the policy prefers it, and re-reads to find what a reset did not bring back', async () => {
    h = await startHarness(
      { seed: 11, mailboxes: 60 },
      { policy: { preferDefaultAuditSet: true, modes: { 'default-audit-set-customised': 'auto' } } },
    );
    await h.scan();
    const environment = h.open();
    const plan = await planRemediation(environment.services, { requestedBy: 'cli:test' });
    const restores = plan.changes.filter((change) => change.plan.change.kind === 'set-mailbox' && change.plan.change.defaultAuditSet);
    expect(restores.length).toBeGreaterThan(0);
    expect(restores[0]!.plan.description).toMatch(/^Set-Mailbox -Identity '.+' -DefaultAuditSet (Owner|Delegate|Admin) \(plus the logon types already managed\)$/);
    await h.drain(environment);

    await h.scan();
    const active = await h.findings('active');
    expect(active.filter((finding) => finding.ruleId === 'default-audit-set-customised')).toEqual([]);
    // The group-licensing failure: a reset gives the lists back without MailItemsAccessed.
    const failed = active.filter((finding) => finding.ruleId === 'mailitemsaccessed-missing');
    expect(failed.length).toBeGreaterThan(0);
    for (const finding of failed) expect(finding.status).toBe('failed');
    const events = await h.events(failed[0]!.objectId);
    expect(events.find((event) => event.type === 'failed')?.reason).toMatch(/did not bring MailItemsAccessed back/);
  }, 60_000);
});
