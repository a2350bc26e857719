import { app, type InvocationContext, type Timer } from '@azure/functions';
import { productionApp } from '../shared/app/app';
import { settingsSchema } from '../shared/config/settings';
import { loggerFrom } from '../shared/logging';
import { runNight, type NightOptions } from '../shared/services/night';

export const NIGHTLY_SCAN_FUNCTION = 'nightly-scan';

/** The timer's NCRONTAB schedule: SCAN_SCHEDULE, validated like every other setting. */
export function scanSchedule(env: Record<string, string | undefined> = process.env): string {
  return settingsSchema.shape.SCAN_SCHEDULE.parse(env.SCAN_SCHEDULE === '' ? undefined : env.SCAN_SCHEDULE);
}

/** The night an invocation runs; tests pass one over fakes or the simulated tenant. */
export type NightFactory = (context: InvocationContext) => Promise<NightOptions>;

const productionNight: NightFactory = async (context) => (await productionApp()).night({ logger: loggerFrom(context) });

/** Parse the trigger, run the night (scan → record → plan → digest), let a failure fail the invocation. */
export function nightlyScanHandler(night: NightFactory = productionNight) {
  return async (timer: Timer, context: InvocationContext): Promise<void> => {
    if (timer.isPastDue) loggerFrom(context).warn('the nightly scan is running late (the host was down or busy at its scheduled time)');
    await runNight(await night(context));
  };
}

app.timer(NIGHTLY_SCAN_FUNCTION, {
  schedule: scanSchedule(),
  // Only one instance runs a timer and it won't overlap itself; a failed night is retried a
  // couple of times, minutes apart, so a brief Graph or Exchange outage does not lose the night.
  retry: { strategy: 'exponentialBackoff', maxRetryCount: 2, minimumInterval: { minutes: 5 }, maximumInterval: { minutes: 30 } },
  handler: nightlyScanHandler(),
});
