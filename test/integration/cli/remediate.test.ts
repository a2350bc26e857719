import { approveCommand, rejectCommand } from '../../../shared/cli/commands/approve';
import { remediateCommand, type RemediationEnvironmentFactory } from '../../../shared/cli/commands/remediate';
import type { CliCommand } from '../../../shared/cli/io';
import { REMEDIATIONS_QUEUE } from '../../../shared/queue';
import { startHarness, type Harness } from '../../support/harness';

async function run(command: CliCommand, args: string[], h: Harness) {
  let stdout = '';
  let stderr = '';
  const code = await command
    .run(args, { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) }, env: h.env, credential: h.credential })
    .catch(async (error: unknown) => {
      const { reportFailure } = await import('../../../shared/cli/io');
      return reportFailure({ stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) }, env: {} }, error);
    });
  return { code, stdout, stderr };
}

describe('audit-warden remediate, approve and reject', () => {
  let h: Harness;
  let factory: RemediationEnvironmentFactory;
  beforeAll(async () => {
    h = await startHarness({ seed: 11, mailboxes: 60, orgAuditDisabled: true });
    await h.scan();
    factory = () => h.open();
  });
  afterAll(async () => h.stop());

  it('--what-if prints the exact calls and changes, queues and records nothing', async () => {
    h.sim.stats.reset();
    const result = await run(remediateCommand(factory), ['--what-if'], h);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Remediation plan for tenant .+ \(what-if: nothing was changed, queued or recorded\)/);
    expect(result.stdout).toMatch(/^ {2}auto {6}mailbox-audit-disabled\|\S+ +Set-Mailbox -Identity '\S+' -AuditEnabled \$true$/m);
    expect(result.stdout).toMatch(/^ {2}approval {2}org-audit-disabled\|\S+ +Set-OrganizationConfig -AuditDisabled \$false {2}\[policy mode for org-audit-disabled\]$/m);
    expect(result.stdout).toMatch(/\d+ findings with advice only/);
    expect(Object.keys(h.sim.stats.cmdlets).filter((cmdlet) => cmdlet.startsWith('Set-'))).toEqual([]);
    expect(await h.queues.approximateCount(REMEDIATIONS_QUEUE)).toBe(0);
    expect((await h.findings('active')).every((finding) => finding.status === 'open')).toBe(true);

    const json = await run(remediateCommand(factory), ['--what-if', '--json', '--rule', 'mailbox-audit-log-age-short'], h);
    const document = JSON.parse(json.stdout) as { changes: Array<{ ruleId: string; mode: string; call: string }> };
    expect(document.changes.length).toBeGreaterThan(0);
    for (const change of document.changes) expect(change).toMatchObject({ ruleId: 'mailbox-audit-log-age-short', mode: 'auto', call: expect.stringMatching(/-AuditLogAgeLimit 180\.00:00:00$/) });
  });

  it('queues, applies and verifies, then asks for approval where the policy says so', async () => {
    const result = await run(remediateCommand(factory), ['--rule', 'mailbox-audit-disabled', '--quiet'], h);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/queued: \d+/);
    expect(result.stdout).toMatch(/Applied (\d+) changes, verified \1; 0 blocked, 0 failed/);
    expect((await h.findings('active')).filter((finding) => finding.ruleId === 'mailbox-audit-disabled')).toEqual([]);

    const org = await run(remediateCommand(factory), ['--rule', 'org-audit-disabled', '--quiet'], h);
    const requestId = /approval request (apr-[0-9a-f]+) /.exec(org.stdout)?.[1];
    expect(requestId).toBeDefined();
    expect(h.sim.tenant.organization.auditDisabled).toBe(true);

    const approved = await run(approveCommand(factory), [requestId!, '--as', 'carol@contoso.example', '--apply'], h);
    expect(approved.code).toBe(0);
    expect(approved.stdout).toMatch(new RegExp(`^Request ${requestId} approved by carol@contoso.example`));
    expect(h.sim.tenant.organization.auditDisabled).toBe(false);

    const again = await run(approveCommand(factory), [requestId!, '--as', 'dave@contoso.example'], h);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already approved by carol@contoso.example/);
  });

  it('rejects with a reason, and refuses a rejection without one', async () => {
    const plan = await run(remediateCommand(factory), ['--rule', 'audit-bypass-enabled', '--quiet', '--json'], h);
    const requestId = (JSON.parse(plan.stdout) as { approvalRequests: Array<{ requestId: string }> }).approvalRequests[0]!.requestId;
    const bypass = (await h.findings('active')).find((finding) => finding.ruleId === 'audit-bypass-enabled')!;

    const missing = await run(rejectCommand(factory), [requestId], h);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/--reason "…" is required/);

    const byKey = await run(rejectCommand(factory), [bypass.key, '--reason', 'service account, change ticket CHG-42', '--as', 'erin@contoso.example'], h);
    expect(byKey.code).toBe(0);
    expect(byKey.stdout).toMatch(/rejected by erin@contoso.example/);
    const events = (await h.events(bypass.objectId)).filter((event) => event.type === 'rejected');
    expect(events).toEqual([expect.objectContaining({ actor: 'erin@contoso.example', reason: 'service account, change ticket CHG-42' })]);
    // Not asked again for the same change.
    const replan = await run(remediateCommand(factory), ['--rule', 'audit-bypass-enabled', '--what-if', '--json'], h);
    expect(JSON.parse(replan.stdout)).toMatchObject({ changes: [], rejectedEarlier: 1 });
  });

  it('reads an earlier pack\'s rule id as the rule that replaced it', async () => {
    const result = await run(remediateCommand(factory), ['--rule', 'retention-too-short', '--what-if', '--json'], h);
    expect(result.code).toBe(0);
    const document = JSON.parse(result.stdout) as { changes: Array<{ ruleId: string }>; refusedEarlier: number };
    expect(document.changes.length).toBeGreaterThan(0);
    expect(new Set(document.changes.map((change) => change.ruleId))).toEqual(new Set(['mailbox-audit-log-age-short']));
    expect(document.refusedEarlier).toBe(0);
  });

  it('refuses an unknown rule, naming the rules', async () => {
    const result = await run(remediateCommand(factory), ['--rule', 'no-such-rule'], h);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/"no-such-rule" is not a rule; rules: org-audit-disabled/);
  });
});
