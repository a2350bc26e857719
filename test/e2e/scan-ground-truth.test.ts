import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findingKey, type Finding } from '../../shared/domain/finding';
import { DEFAULT_POLICY_MAILBOX_TYPES, groundTruth, groundTruthCounts, groundTruthCoverage } from '../../sim';
import { runCli } from '../support/cli';
import { startTenant } from '../support/sim';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');

interface ScanDocument {
  findings: Array<Finding & { objectType: string }>;
  scan: {
    mailboxes: number;
    findingsByRule: Record<string, number>;
    apiCalls: number;
    stored: boolean;
    ruleErrors: number;
    coverage: {
      mailboxes: number;
      counts: Record<string, number>;
      byLogonTypeCounts: Record<'Owner' | 'Delegate' | 'Admin', Record<string, number>>;
    };
  };
}

/** The oracle's coverage verdicts, tallied as the scan tallies its own. */
function expectedCoverageTally(expected: ReturnType<typeof groundTruthCoverage>) {
  const counts = (): Record<'recorded' | 'at-risk' | 'not-recorded', number> => ({ recorded: 0, 'at-risk': 0, 'not-recorded': 0 });
  const overall = counts();
  const byLogonType = { Owner: counts(), Delegate: counts(), Admin: counts() };
  for (const mailbox of expected) {
    overall[mailbox.overall] += 1;
    for (const type of ['Owner', 'Delegate', 'Admin'] as const) byLogonType[type][mailbox[type]] += 1;
  }
  return { mailboxes: expected.length, overall, byLogonType };
}

describe('a read-only scan of the simulated tenant finds exactly its ground truth', () => {
  // Each licence model, ingestion on and off, org auditing on and off; every seed has bypass
  // associations of accounts without a mailbox.
  const cases = [
    { seed: 1, mailboxes: 300 },
    { seed: 7, mailboxes: 2_500, orgAuditDisabled: true },
    { seed: 42, mailboxes: 4_000, auditLogAgeLimitFormat: 'iso8601' as const },
    { seed: 11, mailboxes: 1_500, ingestionDisabled: true },
    { seed: 23, mailboxes: 2_000, licenceModel: '2023' as const },
    { seed: 31, mailboxes: 1_200, licenceModel: '2023' as const, ingestionDisabled: true, orgAuditDisabled: true },
  ];

  it.each(cases)('seed $seed, $mailboxes mailboxes, %j', async (options) => {
    const { sim, env, credential } = await startTenant(options);
    try {
      const result = await runCli(['scan', '--json', '--no-store', '--quiet'], env, credential);
      expect(result.stderr).toBe('');
      const document = JSON.parse(result.stdout) as ScanDocument;
      const expected = groundTruth(sim.tenant).map(findingKey).sort();
      const actual = document.findings.map(findingKey).sort();
      expect(actual).toEqual(expected);
      expect(new Set(actual).size).toBe(actual.length);
      expect(document.scan.findingsByRule).toEqual(groundTruthCounts(sim.tenant));
      // E3 and shared mailboxes customised without MailItemsAccessed are reported under the default policy.
      const customisedStandard = sim.tenant.mailboxes.filter(
        (mailbox) =>
          mailbox.drift?.missingActions.Owner?.includes('MailItemsAccessed') &&
          (mailbox.recipientTypeDetails === 'SharedMailbox' ||
            (mailbox.recipientTypeDetails === 'UserMailbox' &&
              mailbox.user.licences.length > 0 &&
              mailbox.user.licences.every((licence) => licence.skuId === '05e9a617-0261-4cee-bb44-138d3ef5d965'))),
      );
      expect(customisedStandard.length).toBeGreaterThan(0);
      const reportedMia = new Set(document.findings.filter((finding) => finding.ruleId === 'mailitemsaccessed-missing').map((finding) => finding.objectId));
      for (const mailbox of customisedStandard) expect(reportedMia.has(mailbox.user.id)).toBe(true);
      // Bypass findings include accounts that have no mailbox.
      const mailboxGuids = new Set(sim.tenant.mailboxes.map((mailbox) => mailbox.association.guid));
      expect(document.findings.some((finding) => finding.ruleId === 'audit-bypass-enabled' && !mailboxGuids.has(finding.objectId))).toBe(true);
      // The coverage figure equals the oracle's verdicts, tallied.
      const coverage = expectedCoverageTally(groundTruthCoverage(sim.tenant));
      expect(document.scan.coverage.mailboxes).toBe(coverage.mailboxes);
      expect(document.scan.coverage.counts).toEqual(coverage.overall);
      expect(document.scan.coverage.byLogonTypeCounts).toEqual(coverage.byLogonType);
      if (options.orgAuditDisabled || options.ingestionDisabled) expect(coverage.overall.recorded + coverage.overall['at-risk']).toBe(0);
      expect(document.scan.ruleErrors).toBe(0);
      expect(document.scan.stored).toBe(false);
      expect(result.code).toBe(2);
      // Every rule of the pack shows up in a big enough tenant.
      if (options.mailboxes >= 2_500) expect(Object.keys(document.scan.findingsByRule).length).toBeGreaterThanOrEqual(8);
    } finally {
      await sim.stop();
    }
  });

  it('works when pointed at the tenant only by its base URLs, tenant id and managed-identity variables', async () => {
    const { sim, env } = await startTenant({ seed: 3, mailboxes: 400 });
    try {
      // A separate process whose environment holds nothing else: no credentials, no config files.
      const child = await run(process.execPath, [join(ROOT, 'bin', 'audit-warden.js'), 'scan', '--json', '--no-store'], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', ...env },
        maxBuffer: 64 * 1024 * 1024,
      }).catch((error: { code: number; stdout: string; stderr: string }) => error);
      const document = JSON.parse(child.stdout) as ScanDocument;
      expect(document.findings.map(findingKey).sort()).toEqual(groundTruth(sim.tenant).map(findingKey).sort());
      expect('code' in child ? child.code : 0).toBe(2);
      const inScope = sim.tenant.mailboxes.filter((mailbox) => DEFAULT_POLICY_MAILBOX_TYPES.has(mailbox.recipientTypeDetails));
      const licensed = inScope.filter((mailbox) => mailbox.user.licences.length > 0).length;
      expect(child.stderr).toContain(
        `scan: done · licensed mailboxes ${licensed} / ${licensed} · other mailboxes ${inScope.length - licensed} · API calls`,
      );
    } finally {
      await sim.stop();
    }
  });
});
