import { findingKey, type RuleId } from '../../../../shared/domain/finding';
import { approve, planRemediation } from '../../../../shared/services/remediation';
import { groundTruth, MIA_LICENCE_ERROR } from '../../../../sim';
import { startHarness, type Harness } from '../../../support/harness';

const REPORT_ONLY: RuleId[] = ['advanced-auditing-plan-missing', 'audit-retention-too-short', 'default-audit-set-customised'];

describe('remediation of every rule against the simulated tenant', () => {
  let h: Harness;
  afterEach(async () => h?.stop());

  it('applies and verifies each rule\'s fix; a fresh scan finds only report-only drift and the licence failures reprocessing did not clear', async () => {
    h = await startHarness({ seed: 11, mailboxes: 60, orgAuditDisabled: true, ingestionDisabled: true });
    const first = await h.scan();
    expect(Object.keys(first.totals.findingsByRule).length).toBeGreaterThanOrEqual(10);

    const environment = h.open();
    const plan = await planRemediation(environment.services, { requestedBy: 'scan:night-1' });
    expect(plan.enqueued).toBeGreaterThan(0);
    expect(plan.advice.map((advice) => advice.ruleId)).toEqual(expect.arrayContaining(REPORT_ONLY));
    const approvalRules = [...new Set(plan.approvalRequests.flatMap((request) => request.ruleIds))].sort();
    expect(approvalRules).toEqual(['audit-bypass-enabled', 'audit-log-ingestion-disabled', 'org-audit-disabled']);
    // The licence fix starts with a reprocess, which runs automatically (policy.licenceReprocessMode).
    const licence = plan.changes.filter((change) => change.plan.ruleId === 'licence-inherited-blocks-mia');
    expect(licence.length).toBeGreaterThan(0);
    for (const change of licence) expect(change).toMatchObject({ mode: 'auto', plan: { change: { kind: 'reprocess-licence' } } });
    for (const request of plan.approvalRequests) {
      const decision = await approve(environment.services, request.requestId, 'alice@contoso.example');
      expect(decision.enqueued).toBe(1);
    }

    // One at a time: each user's reprocess (queued first, by key) lands before its MailItemsAccessed additions.
    const drained = await h.drain(environment, { concurrency: 1 });
    expect(drained).toMatchObject({ timedOut: false, remaining: 0 });
    expect(drained.counts.errors ?? 0).toBe(0);

    // Every rule with a fix has at least one change applied and verified.
    const verifiedRules = new Set<string>();
    for await (const record of environment.remediations.list(h.tenantId)) if (record.status === 'verified') verifiedRules.add(record.ruleId);
    expect([...verifiedRules].sort()).toEqual([
      'audit-actions-missing',
      'audit-bypass-enabled',
      'audit-log-ingestion-disabled',
      'licence-inherited-blocks-mia',
      'mailbox-audit-disabled',
      'mailbox-audit-log-age-short',
      'mailitemsaccessed-missing',
      'org-audit-disabled',
    ]);
    expect(h.sim.tenant.organization.auditDisabled).toBe(false);
    expect(h.sim.tenant.organization.unifiedAuditLogIngestionEnabled).toBe(true);
    expect(h.sim.received.cmdlets.filter((call) => call.cmdlet === 'Set-AdminAuditLogConfig').map((call) => call.parameters)).toEqual([
      { UnifiedAuditLogIngestionEnabled: true },
    ]);
    expect(h.sim.received.reprocessLicenseAssignment.map((call) => call.userId).sort()).toEqual(licence.map((change) => change.plan.objectId).sort());
    // Step 2 (a direct licence) waits for a scan after the reprocess: nothing was assigned yet.
    expect(h.sim.received.assignLicense).toEqual([]);

    // A fresh scan agrees with the tenant's own record of its drift; all that is left is report-only
    // rules and the users whose group-licensing failure reprocessing did not clear.
    const second = await h.scan();
    expect(second.changes.resolved.length).toBeGreaterThan(0);
    const remaining = await h.findings('active');
    expect(remaining.map((finding) => finding.key).sort()).toEqual(groundTruth(h.sim.tenant).map(findingKey).sort());
    const stillFailing = new Set(h.sim.tenant.users.filter((user) => user.groupProvisioningFailed).map((user) => user.id));
    expect(stillFailing.size).toBeGreaterThan(0);
    for (const finding of remaining) {
      if (REPORT_ONLY.includes(finding.ruleId)) expect(finding.status).toBe('open');
      else expect(stillFailing.has(finding.objectId)).toBe(true);
    }

    // The history of one fixed finding, with who and why.
    const fixed = (await h.findings('resolved')).find((finding) => finding.ruleId === 'mailbox-audit-disabled')!;
    const history = (await h.events(fixed.objectId)).filter((event) => event.ruleId === 'mailbox-audit-disabled');
    expect(history.map((event) => event.type).reverse()).toEqual(['detected', 'remediated', 'verified']);
    expect(history.find((event) => event.type === 'remediated')).toMatchObject({
      actor: 'scan:night-1',
      reason: `Set-Mailbox -Identity '${fixed.objectId}' -AuditEnabled $true`,
    });

    // Exchange refused MailItemsAccessed (blocked, in its own words); the verified reprocess then
    // reopened the change so the next night tries it once more, and the licence finding stays open
    // (a reprocess is step 1, not a fix).
    const licenceFinding = remaining.find((finding) => finding.ruleId === 'licence-inherited-blocks-mia')!;
    expect(licenceFinding.status).toBe('open');
    const events = await h.events(licenceFinding.objectId);
    expect(events.find((event) => event.type === 'blocked' && event.ruleId === 'mailitemsaccessed-missing')?.reason).toBe(MIA_LICENCE_ERROR);
    expect(events.find((event) => event.type === 'verified' && event.ruleId === 'licence-inherited-blocks-mia')?.reason).toMatch(/re-ran the user's group licence assignments/);
    const mia = remaining.filter((finding) => finding.ruleId === 'mailitemsaccessed-missing' && finding.objectId === licenceFinding.objectId);
    expect(mia.map((finding) => finding.status)).toEqual(['open', 'open', 'open']);
    expect(mia.every((finding) => finding.metadata.unblockedBy !== undefined)).toBe(true);
    expect((await h.store.mailboxes.current(h.tenantId, licenceFinding.objectId))?.miaRefusedAt).toBeUndefined();
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
