import type { AuditPolicy } from '../config/policy';
import type {
  MailboxAuditSnapshot,
  UserLicenceState,
} from '../domain/audit';
import type { Finding, RuleId } from '../domain/finding';
import type { Logger } from '../logging';
import { evaluateBypassAssociation, evaluateMailbox, evaluateOrganization, type Evaluation } from '../rules';
import { compilePolicy } from '../rules/compiled-policy';
import { addToTally, emptyCoverageTally, mailboxCoverage, type CoverageTally } from '../rules/coverage';
import type { ObservedObject, ScanChanges, ScanRecorder, ScanRun, ScanTotals, TenantReader } from '../domain/ports';

export type { TenantReader } from '../domain/ports';

export interface ScanProgress {
  phase: 'licences' | 'mailboxes' | 'recording' | 'done';
  mailboxesDone: number;
  /** Mailboxes done whose user holds a licence: counts towards `licensedUsers`. */
  licensedMailboxesDone: number;
  /** Graph's count of licensed users: the total of licensed mailboxes (unlicensed ones, e.g. shared, come on top). */
  licensedUsers: number | undefined;
  apiCalls: number;
  throttledCalls: number;
}

export interface ScanOptions {
  tenantId: string;
  policy: AuditPolicy;
  reader: TenantReader;
  recorder: ScanRecorder;
  logger: Logger;
  clock?: () => Date;
  /** Called with every finding as it is made, so callers can stream output without holding them. */
  onFinding?: (finding: Finding) => void;
  onProgress?: (progress: ScanProgress) => void;
  /** Milliseconds between progress reports. */
  progressIntervalMs?: number;
}

export interface ScanResult {
  run: ScanRun;
  totals: ScanTotals;
  /** The last completed scan's coverage figure, when one was recorded. */
  previousCoverage?: CoverageTally;
  changes: ScanChanges;
  durationMs: number;
}

/**
 * Newest-first scan id: inverted milliseconds so a Table query on the scans partition lists
 * the latest scan first, plus a random suffix so two scans in the same millisecond differ.
 */
export function newScanId(at: Date, random: () => number = Math.random): string {
  const inverted = (8_640_000_000_000_000 - at.getTime()).toString().padStart(16, '0');
  const suffix = Math.floor(random() * 0xffffff).toString(16).padStart(6, '0');
  return `${inverted}-${suffix}`;
}

/**
 * One scan of one tenant: read the org, the licences and the bypass associations, then stream every
 * mailbox in scope through the pure rules. Only the licence index is held in memory (one compact entry
 * per licensed user); mailboxes, associations and findings flow through, so memory is flat in the
 * number of mailboxes. The recorder decides what to store; a failure marks the scan failed, which
 * resolves nothing.
 */
export async function runScan(options: ScanOptions): Promise<ScanResult> {
  const clock = options.clock ?? (() => new Date());
  const { policy, reader, recorder, logger } = options;
  const startedAt = clock();
  const run: ScanRun = { tenantId: options.tenantId, scanId: newScanId(startedAt), startedAt };
  const findingsByRule: Partial<Record<RuleId, number>> = {};
  let ruleErrors = 0;
  let mailboxes = 0;
  let licensedMailboxes = 0;
  let bypassAssociations = 0;
  let licensedUsers: number | undefined;
  let phase: ScanProgress['phase'] = 'licences';

  const progress = progressReporter(options, () => {
    const usage = reader.apiUsage();
    return { phase, mailboxesDone: mailboxes, licensedMailboxesDone: licensedMailboxes, licensedUsers, apiCalls: usage.calls, throttledCalls: usage.throttled };
  });

  const coverage = emptyCoverageTally();
  // Accounts whose bypass is on, by every name Exchange may give them: a mailbox whose own account
  // is among them has its Owner reads unrecorded. Few per tenant, so cheap to hold.
  const bypassedAccounts = new Set<string>();

  const observe = async (object: Omit<ObservedObject, 'findings' | 'excepted'>, evaluation: Evaluation) => {
    for (const finding of evaluation.findings) {
      if (finding.error) ruleErrors += 1;
      else findingsByRule[finding.ruleId] = (findingsByRule[finding.ruleId] ?? 0) + 1;
      options.onFinding?.(finding);
    }
    await recorder.observe({ ...object, findings: evaluation.findings, excepted: evaluation.excepted });
  };

  logger.info('scan started', { tenantId: run.tenantId, scanId: run.scanId });
  for (const note of compilePolicy(policy).notes) logger.warn(note, { tenantId: run.tenantId });
  const memory = await recorder.begin(run);
  try {
    const now = startedAt;
    const [organization, licences] = await Promise.all([
      reader.organization(),
      indexLicences(reader, (total) => {
        licensedUsers = total;
      }),
      (async () => {
        for await (const association of reader.bypassAssociations()) {
          bypassAssociations += 1;
          if (association.auditBypassEnabled) {
            bypassedAccounts.add(association.identity.toLowerCase());
            bypassedAccounts.add(association.objectId.toLowerCase());
          }
          await observe(
            { objectType: 'bypass-association', objectId: association.objectId, userPrincipalName: association.identity },
            evaluateBypassAssociation({ association, policy }, now),
          );
        }
      })(),
    ]);
    const organizationEvaluation = evaluateOrganization({ organization, policy }, now);
    const organizationFindings = [...organizationEvaluation.findings, ...organizationEvaluation.excepted.map((item) => item.finding)];
    await observe(
      { objectType: 'organization', objectId: organization.identity, userPrincipalName: organization.identity },
      organizationEvaluation,
    );

    phase = 'mailboxes';
    for await (const mailbox of reader.mailboxes(policy.mailboxTypes)) {
      mailboxes += 1;
      const licence = licences.get(mailbox.objectId);
      if (licence) licensedMailboxes += 1;
      const evaluation = evaluateMailbox(
        {
          mailbox,
          licence,
          organization,
          policy,
          mailItemsAccessedRefused: memory.mailItemsAccessedRefused.has(mailbox.objectId),
        },
        now,
      );
      const verdict = mailboxCoverage({
        mailboxFindings: evaluation.excepted.length === 0 ? evaluation.findings : [...evaluation.findings, ...evaluation.excepted.map((item) => item.finding)],
        organizationFindings,
        ownAccountBypassed: bypassedAccounts.size > 0 && ownAccountBypassed(mailbox, bypassedAccounts),
      });
      addToTally(coverage, verdict);
      await observe(
        { objectType: 'mailbox', objectId: mailbox.objectId, userPrincipalName: mailbox.userPrincipalName, mailbox, coverage: verdict },
        evaluation,
      );
      progress.maybeReport();
    }

    phase = 'recording';
    progress.report();
    const usage = reader.apiUsage();
    const totals: ScanTotals = {
      finishedAt: clock(),
      mailboxes,
      bypassAssociations,
      findingsByRule,
      ruleErrors,
      apiCalls: usage.calls,
      throttledCalls: usage.throttled,
      coverage,
    };
    const changes = await recorder.complete(totals);
    phase = 'done';
    progress.report();
    const durationMs = totals.finishedAt.getTime() - startedAt.getTime();
    logger.info('scan completed', {
      tenantId: run.tenantId,
      scanId: run.scanId,
      mailboxes,
      findings: Object.values(findingsByRule).reduce((sum, count) => sum + count, 0),
      opened: changes.opened.length,
      resolved: changes.resolved.length,
      apiCalls: usage.calls,
      durationMs,
    });
    return { run, totals, changes, durationMs, ...(memory.previousCoverage ? { previousCoverage: memory.previousCoverage } : {}) };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    logger.error('scan failed; nothing was resolved', { tenantId: run.tenantId, scanId: run.scanId, reason });
    await recorder.fail(reason).catch((recordError: unknown) =>
      logger.error('could not mark the scan as failed', {
        scanId: run.scanId,
        reason: recordError instanceof Error ? recordError.message : String(recordError),
      }),
    );
    throw error;
  } finally {
    progress.stop();
  }
}

/** Whether any name of the mailbox's account (Name, UPN, object id, mailbox Guid) has an enabled bypass. */
function ownAccountBypassed(mailbox: MailboxAuditSnapshot, bypassed: ReadonlySet<string>): boolean {
  return [mailbox.name, mailbox.userPrincipalName, mailbox.objectId, mailbox.exchangeGuid].some(
    (name) => name !== undefined && name !== '' && bypassed.has(name.toLowerCase()),
  );
}

/** Licensed users by Entra object id: the only per-user state a scan keeps in memory. */
async function indexLicences(
  reader: TenantReader,
  onTotal: (total: number) => void,
): Promise<Map<string, UserLicenceState>> {
  const index = new Map<string, UserLicenceState>();
  for await (const user of reader.licensedUsers(onTotal)) index.set(user.objectId, user);
  return index;
}

function progressReporter(options: ScanOptions, snapshot: () => ScanProgress) {
  const interval = options.progressIntervalMs ?? 1000;
  let last = 0;
  const report = () => {
    last = Date.now();
    options.onProgress?.(snapshot());
  };
  const timer = options.onProgress ? setInterval(report, interval) : undefined;
  timer?.unref();
  return {
    report,
    maybeReport: () => {
      if (options.onProgress && Date.now() - last >= interval) report();
    },
    stop: () => clearInterval(timer),
  };
}
