import { describeError } from '../errors';
import type { Logger } from '../logging';
import { planRemediation, type PlanningReport, type RemediationServices } from './remediation';
import { runScan, type ScanOptions, type ScanResult } from './scan';
import type { NotifyOutcome, ScanDigestPoster } from './teams-digest';

/**
 * One night for one tenant, as a single use case: scan → record → plan → digest. The nightly timer,
 * `audit-warden scan` and the demo all run it; what a caller leaves out is skipped (a read-only scan
 * gives no planning and no digest).
 */
export interface NightOptions extends ScanOptions {
  /**
   * Plan the fixes after the scan: automatic changes onto the remediations queue, approval requests
   * for the rest. Only after a scan that completed and was stored: a failed scan throws first.
   */
  planning?: RemediationServices;
  /** Post the Teams digest last. A Teams failure is logged and never fails the night. */
  digest?: ScanDigestPoster;
}

export interface NightResult {
  scan: ScanResult;
  planning?: PlanningReport;
  digest?: NotifyOutcome;
}

export async function runNight(options: NightOptions): Promise<NightResult> {
  const { planning, digest, ...scanOptions } = options;
  const logger = options.logger;
  const scan = await runScan(scanOptions);
  logger.info('nightly scan summary', {
    scanId: scan.run.scanId,
    mailboxes: scan.totals.mailboxes,
    findingsByRule: scan.totals.findingsByRule,
    opened: scan.changes.opened.length,
    resolved: scan.changes.resolved.length,
    gone: scan.changes.gone.length,
    apiCalls: scan.totals.apiCalls,
    durationMs: scan.durationMs,
  });
  const result: NightResult = { scan };
  if (planning) {
    result.planning = await planRemediation({ ...planning, logger }, { requestedBy: `scan:${scan.run.scanId}` });
    logger.info('nightly remediation plan', {
      scanId: scan.run.scanId,
      paused: result.planning.paused,
      enqueued: result.planning.enqueued,
      approvalRequests: result.planning.approvalRequests.length,
      reportOnly: result.planning.changes.filter((change) => change.mode === 'report').length,
      advice: result.planning.advice.length,
      blastRadius: result.planning.blastRadius,
    });
  }
  if (digest) {
    const outcome = await postDigest(digest, scan, result.planning, logger);
    if (outcome) result.digest = outcome;
  }
  return result;
}

/** The scan is recorded whatever Teams says: a failed post is logged (scrubbed by the notifier), never thrown. */
async function postDigest(digest: ScanDigestPoster, scan: ScanResult, planning: PlanningReport | undefined, logger: Logger): Promise<NotifyOutcome | undefined> {
  try {
    return await digest(scan, planning, logger);
  } catch (error) {
    logger.error('Could not post the nightly digest to Teams; the scan is recorded.', { scanId: scan.run.scanId, error: describeError(error) });
    return undefined;
  }
}
