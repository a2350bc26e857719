import { app, type InvocationContext, type Timer } from '@azure/functions';
import { loadPolicy } from '../shared/config/policy';
import { loadSettings, settingsSchema } from '../shared/config/settings';
import { loggerFrom } from '../shared/logging';
import { openScanEnvironment, type ScanEnvironment } from '../shared/services/environment';
import { describeError } from '../shared/errors';
import { planRemediation, type PlanningReport, type RemediationServices } from '../shared/services/remediation';
import { productionRemediationEnvironment } from '../shared/services/remediation-environment';
import { runScan, type ScanResult } from '../shared/services/scan';
import { environmentDigestPoster, type ScanDigestPoster } from '../shared/services/teams-digest';
import { openTableRecorder } from '../shared/store/open';

export const NIGHTLY_SCAN_FUNCTION = 'nightly-scan';

/** The timer's NCRONTAB schedule: SCAN_SCHEDULE, validated like every other setting. */
export function scanSchedule(env: Record<string, string | undefined> = process.env): string {
  return settingsSchema.shape.SCAN_SCHEDULE.parse(env.SCAN_SCHEDULE === '' ? undefined : env.SCAN_SCHEDULE);
}

/** How the handler gets its clients; tests pass an environment over the simulated tenant. */
export type EnvironmentFactory = (context: InvocationContext) => Promise<ScanEnvironment>;

/** How the handler gets the remediation services that plan after the scan. */
export type PlanningFactory = (context: InvocationContext) => Promise<RemediationServices>;

const productionEnvironment: EnvironmentFactory = async (context) => {
  const settings = loadSettings(process.env);
  const policy = await loadPolicy(settings.AUDIT_POLICY_PATH);
  return openScanEnvironment(settings, policy, { store: true, logger: loggerFrom(context), openRecorder: openTableRecorder });
};

const productionPlanning: PlanningFactory = async (context) => ({
  ...(await productionRemediationEnvironment()).services,
  logger: loggerFrom(context),
});

/**
 * Nightly: scan the tenant and record what drifted, then (when `planning` is given) plan the fixes:
 * auto changes onto the remediations queue, approval requests for the rest. Planning runs only after
 * a scan that completed and was stored: a failed scan throws before it, so it plans nothing.
 */
export function nightlyScanHandler(environment: EnvironmentFactory = productionEnvironment, planning?: PlanningFactory, digest?: ScanDigestPoster) {
  return async (timer: Timer, context: InvocationContext): Promise<void> => {
    const logger = loggerFrom(context);
    if (timer.isPastDue) logger.warn('the nightly scan is running late (the host was down or busy at its scheduled time)');
    const env = await environment(context);
    const result = await runScan({
      tenantId: env.settings.AZURE_TENANT_ID,
      policy: env.policy,
      reader: env.reader,
      recorder: env.recorder,
      logger,
    });
    logger.info('nightly scan summary', {
      scanId: result.run.scanId,
      mailboxes: result.totals.mailboxes,
      findingsByRule: result.totals.findingsByRule,
      opened: result.changes.opened.length,
      resolved: result.changes.resolved.length,
      gone: result.changes.gone.length,
      apiCalls: result.totals.apiCalls,
      durationMs: result.durationMs,
    });
    if (!planning) return await postDigest(digest, result, undefined, context);
    const report = await planRemediation(await planning(context), { requestedBy: `scan:${result.run.scanId}` });
    logger.info('nightly remediation plan', {
      scanId: result.run.scanId,
      paused: report.paused,
      enqueued: report.enqueued,
      approvalRequests: report.approvalRequests.map((request) => request.requestId),
      reportOnly: report.changes.filter((change) => change.mode === 'report').length,
      advice: report.advice.length,
      blastRadius: report.blastRadius,
    });
    await postDigest(digest, result, report, context);
  };
}

/**
 * The Teams digest, after the scan and its planning. Skipped (info) without TEAMS_WEBHOOK_URL; a
 * failure is logged with the webhook URL scrubbed and never fails the night: the scan is recorded.
 */
async function postDigest(digest: ScanDigestPoster | undefined, result: ScanResult, report: PlanningReport | undefined, context: InvocationContext): Promise<void> {
  if (!digest) return;
  const logger = loggerFrom(context);
  try {
    await digest(result, report, logger);
  } catch (error) {
    // Settings errors name the setting, never its value; Teams errors are scrubbed by the notifier.
    logger.error('Could not post the nightly digest to Teams; the scan is recorded.', { scanId: result.run.scanId, error: describeError(error) });
  }
}

/** The factories the registered timer uses, read from process.env at call time (the demo runs the same night). */
export function productionNightlyDependencies() {
  return {
    environment: productionEnvironment,
    planning: productionPlanning,
    digest: environmentDigestPoster(productionRemediationEnvironment),
  };
}

app.timer(NIGHTLY_SCAN_FUNCTION, {
  schedule: scanSchedule(),
  // Only one instance runs a timer and it won't overlap itself; a failed night is retried a
  // couple of times, minutes apart, so a brief Graph or Exchange outage does not lose the night.
  retry: { strategy: 'exponentialBackoff', maxRetryCount: 2, minimumInterval: { minutes: 5 }, maximumInterval: { minutes: 30 } },
  handler: (() => {
    const production = productionNightlyDependencies();
    return nightlyScanHandler(production.environment, production.planning, production.digest);
  })(),
});
