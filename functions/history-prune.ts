import { app, type InvocationContext, type Timer } from '@azure/functions';
import { productionApp } from '../shared/app/app';
import { settingsSchema } from '../shared/config/settings';
import { loggerFrom } from '../shared/logging';
import { pruneHistoryOfTenants } from '../shared/services/history-retention';

export const HISTORY_PRUNE_FUNCTION = 'history-prune';

/** HISTORY_PRUNE_SCHEDULE, validated like every other setting (weekly by default). */
export function pruneSchedule(env: Record<string, string | undefined> = process.env): string {
  return settingsSchema.shape.HISTORY_PRUNE_SCHEDULE.parse(env.HISTORY_PRUNE_SCHEDULE === '' ? undefined : env.HISTORY_PRUNE_SCHEDULE);
}

/** Every tenant the app serves, each with its policy's historyRetentionDays; a failed tenant fails the invocation. */
export async function historyPruneHandler(_timer: Timer, context: InvocationContext): Promise<void> {
  const { settings, policy, pruneHistory } = await productionApp();
  const outcomes = await pruneHistoryOfTenants([{ tenantId: settings.AZURE_TENANT_ID, policy }], pruneHistory, new Date(), loggerFrom(context));
  const failed = outcomes.filter((outcome) => outcome.error !== undefined);
  if (failed.length > 0) throw new Error(`History retention failed for ${failed.map((outcome) => outcome.tenantId).join(', ')}; see the log.`);
}

app.timer(HISTORY_PRUNE_FUNCTION, { schedule: pruneSchedule(), handler: historyPruneHandler });
