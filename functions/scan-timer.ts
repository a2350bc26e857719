import { app, type InvocationContext, type Timer } from '@azure/functions';
import { loadPolicy } from '../shared/config/policy';
import { loadSettings, settingsSchema } from '../shared/config/settings';
import { loggerFrom } from '../shared/logging';
import { openScanEnvironment, type ScanEnvironment } from '../shared/services/environment';
import { runScan } from '../shared/services/scan';

export const NIGHTLY_SCAN_FUNCTION = 'nightly-scan';

/** The timer's NCRONTAB schedule: SCAN_SCHEDULE, validated like every other setting. */
export function scanSchedule(env: Record<string, string | undefined> = process.env): string {
  return settingsSchema.shape.SCAN_SCHEDULE.parse(env.SCAN_SCHEDULE === '' ? undefined : env.SCAN_SCHEDULE);
}

/** How the handler gets its clients; tests pass an environment over the simulated tenant. */
export type EnvironmentFactory = (context: InvocationContext) => Promise<ScanEnvironment>;

const productionEnvironment: EnvironmentFactory = async (context) => {
  const settings = loadSettings(process.env);
  const policy = await loadPolicy(settings.AUDIT_POLICY_PATH);
  return openScanEnvironment(settings, policy, { store: true, logger: loggerFrom(context) });
};

/** Nightly: scan the tenant and record what drifted. A failure fails the invocation (and is retried). */
export function nightlyScanHandler(environment: EnvironmentFactory = productionEnvironment) {
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
  };
}

app.timer(NIGHTLY_SCAN_FUNCTION, {
  schedule: scanSchedule(),
  // Only one instance runs a timer and it won't overlap itself; a failed night is retried a
  // couple of times, minutes apart, so a brief Graph or Exchange outage does not lose the night.
  retry: { strategy: 'exponentialBackoff', maxRetryCount: 2, minimumInterval: { minutes: 5 }, maximumInterval: { minutes: 30 } },
  handler: nightlyScanHandler(),
});
