import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../support/cli';
import { startTenant } from '../../support/sim';
import { TENANT } from '../../support/fixtures/tenant';

describe('audit-warden scan: what a user sees when something is wrong', () => {
  it('names the missing tenant id and exits 1, without a stack trace', async () => {
    const result = await runCli(['scan', '--no-store'], {});
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('audit-warden: The settings are not valid.\n  - AZURE_TENANT_ID: AZURE_TENANT_ID is required (the tenant GUID)\n');
    expect(result.stdout).toBe('');
  });

  it('names a bad base URL', async () => {
    const result = await runCli(['scan', '--no-store'], { AZURE_TENANT_ID: TENANT, EXCHANGE_BASE_URL: 'outlook' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('EXCHANGE_BASE_URL: EXCHANGE_BASE_URL must be an absolute http(s) URL');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('names the bad field of a policy file', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'aw-cli-')), 'policy.json');
    writeFileSync(path, JSON.stringify({ minimumAuditLogAgeDays: -5 }));
    const result = await runCli(['scan', '--no-store', '--policy', path], { AZURE_TENANT_ID: TENANT });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`^audit-warden: The audit policy in policy file ${path} is not valid\\.\\n  - minimumAuditLogAgeDays: `));
  });

  it('rejects an unknown flag, naming it', async () => {
    const result = await runCli(['scan', '--no-stroe'], {});
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("Unknown option '--no-stroe'");
  });

  it('reports a malformed Exchange answer as a service failure naming the cmdlet, and exits 3', async () => {
    const { sim, env, credential } = await startTenant({ seed: 5, mailboxes: 50 });
    try {
      sim.faults.enqueue({ api: 'exchange', kind: 'malformed-json', cmdlet: 'Get-Mailbox' });
      const result = await runCli(['scan', '--no-store', '--quiet'], env, credential);
      expect(result.code).toBe(3);
      expect(result.stderr).toMatch(/audit-warden: .*Get-Mailbox.*(JSON|json)/);
      expect(result.stdout).toBe('');
    } finally {
      await sim.stop();
    }
  });

  it('reports an Exchange record of the wrong shape naming the mailbox and the field', async () => {
    const { sim, env, credential } = await startTenant({ seed: 5, mailboxes: 50 });
    try {
      // An upstream change we did not expect: a boolean that is no longer a boolean.
      const mailbox = sim.tenant.mailboxes[3]!;
      (mailbox as unknown as { auditEnabled: unknown }).auditEnabled = 'sometimes';
      sim.tenant.version += 1;
      const result = await runCli(['scan', '--no-store', '--quiet'], env, credential);
      expect(result.code).toBe(3);
      expect(result.stderr).toMatch(/^audit-warden: .*Get-Mailbox/);
      expect(result.stderr).toContain('AuditEnabled');
    } finally {
      await sim.stop();
    }
  });

  it('leads the summary with the coverage figure, and puts it in --json as scan.coverage', async () => {
    const { sim, env, credential } = await startTenant({ seed: 5, mailboxes: 50 });
    try {
      const text = await runCli(['scan', '--no-store', '--quiet'], env, credential);
      expect(text.code).toBe(2);
      const [headline, counts] = text.stdout.split('\n');
      expect(headline).toMatch(/^Reads recorded for \d+\.\d % of \d+ in-scope mailboxes \(Owner \d+\.\d %, Delegate \d+\.\d %, Admin \d+\.\d %\)$/);
      expect(counts).toMatch(/^ {2}\d+ recorded · \d+ at risk · \d+ not recorded/);

      const json = await runCli(['scan', '--no-store', '--json', '--quiet'], env, credential);
      const scan = (JSON.parse(json.stdout) as { scan: { mailboxes: number; coverage: { mailboxes: number; share: number; counts: Record<string, number>; byLogonTypeCounts: Record<string, Record<string, number>> } } }).scan;
      expect(scan.coverage.mailboxes).toBe(scan.mailboxes);
      const { recorded, 'at-risk': atRisk, 'not-recorded': notRecorded } = scan.coverage.counts as Record<string, number>;
      expect(recorded! + atRisk! + notRecorded!).toBe(scan.mailboxes);
      expect(scan.coverage.share).toBeCloseTo((recorded! + atRisk!) / scan.mailboxes, 10);
      expect(Object.keys(scan.coverage.byLogonTypeCounts)).toEqual(['Owner', 'Delegate', 'Admin']);
      // The drifted tenant has MailItemsAccessed gaps: its figure is not 100 %.
      expect(notRecorded).toBeGreaterThan(0);
    } finally {
      await sim.stop();
    }
  });

  it('counts every mailbox not recorded while unified audit log ingestion is off, with a critical finding', async () => {
    const { sim, env, credential } = await startTenant({ seed: 5, mailboxes: 50, ingestionDisabled: true });
    try {
      const result = await runCli(['scan', '--no-store', '--json', '--quiet'], env, credential);
      expect(result.code).toBe(2);
      const document = JSON.parse(result.stdout) as {
        findings: Array<{ ruleId: string; severity: string; objectType: string }>;
        scan: { mailboxes: number; coverage: { share: number; counts: Record<string, number> } };
      };
      expect(document.findings.filter((finding) => finding.ruleId === 'audit-log-ingestion-disabled')).toEqual([
        expect.objectContaining({ objectType: 'organization', severity: 'critical' }),
      ]);
      expect(document.scan.coverage.counts['not-recorded']).toBe(document.scan.mailboxes);
      expect(document.scan.coverage.share).toBe(0);
    } finally {
      await sim.stop();
    }
  });

  it('reports ingestion it could not read as a rule error naming Get-AdminAuditLogConfig, and calls no mailbox recorded', async () => {
    const { sim, env, credential } = await startTenant({ seed: 5, mailboxes: 50 });
    try {
      sim.faults.enqueue({ api: 'exchange', kind: 'malformed-json', cmdlet: 'Get-AdminAuditLogConfig', times: 10 });
      const result = await runCli(['scan', '--no-store', '--json', '--quiet'], env, credential);
      const document = JSON.parse(result.stdout) as {
        findings: Array<{ ruleId: string; error?: string }>;
        scan: { ruleErrors: number; coverage: { counts: Record<string, number> } };
      };
      const ingestion = document.findings.filter((finding) => finding.ruleId === 'audit-log-ingestion-disabled');
      expect(ingestion).toEqual([expect.objectContaining({ error: expect.stringContaining('Get-AdminAuditLogConfig') })]);
      expect(document.scan.ruleErrors).toBeGreaterThanOrEqual(1);
      expect(document.scan.coverage.counts.recorded).toBe(0);
    } finally {
      await sim.stop();
    }
  });

  it('rides out throttling, the concurrency error and a 503, and counts the throttled calls', async () => {
    const { sim, env, credential } = await startTenant({ seed: 6, mailboxes: 200 });
    try {
      sim.faults.enqueue({ api: 'exchange', kind: '429', retryAfterSeconds: 0, cmdlet: 'Get-Mailbox', times: 2 });
      sim.faults.enqueue({ api: 'exchange', kind: 'concurrency', cmdlet: 'Get-MailboxAuditBypassAssociation' });
      sim.faults.enqueue({ api: 'graph', kind: '503', retryAfterSeconds: 0, path: '/users' });
      const result = await runCli(['scan', '--no-store', '--json', '--quiet'], env, credential);
      expect(result.code).toBe(2);
      const scan = (JSON.parse(result.stdout) as { scan: { throttledCalls: number; mailboxes: number } }).scan;
      expect(scan.throttledCalls).toBe(3);
      expect(scan.mailboxes).toBeGreaterThan(150);
    } finally {
      await sim.stop();
    }
  });
});
