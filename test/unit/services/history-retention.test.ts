import type { Logger } from '../../../shared/logging';
import { pruneHistoryOfTenants } from '../../../shared/services/history-retention';
import { pruneSchedule } from '../../../functions/history-prune';
import { registrationsOf } from '../../support/registrations';

const NOW = new Date('2026-12-06T04:00:00Z');

function recordingLogger() {
  const lines: Array<{ level: string; message: string; fields?: Record<string, unknown> }> = [];
  const logger: Logger = {
    info: (message, fields) => lines.push({ level: 'info', message, ...(fields ? { fields } : {}) }),
    warn: (message, fields) => lines.push({ level: 'warn', message, ...(fields ? { fields } : {}) }),
    error: (message, fields) => lines.push({ level: 'error', message, ...(fields ? { fields } : {}) }),
  };
  return { logger, lines };
}

describe('history retention across tenants', () => {
  it("prunes each tenant with its own policy's historyRetentionDays", async () => {
    const calls: Array<[string, number, Date]> = [];
    const { logger } = recordingLogger();
    const outcomes = await pruneHistoryOfTenants(
      [
        { tenantId: 'tenant-a', policy: { historyRetentionDays: 400 } },
        { tenantId: 'tenant-b', policy: { historyRetentionDays: 30 } },
      ],
      async (tenantId, days, now) => {
        calls.push([tenantId, days, now]);
        return { events: days };
      },
      NOW,
      logger,
    );
    expect(calls).toEqual([
      ['tenant-a', 400, NOW],
      ['tenant-b', 30, NOW],
    ]);
    expect(outcomes).toEqual([
      { tenantId: 'tenant-a', retentionDays: 400, result: { events: 400 } },
      { tenantId: 'tenant-b', retentionDays: 30, result: { events: 30 } },
    ]);
  });

  it("one tenant's failure is logged and reported, and never stops the next tenant", async () => {
    const { logger, lines } = recordingLogger();
    const outcomes = await pruneHistoryOfTenants(
      [
        { tenantId: 'tenant-a', policy: { historyRetentionDays: 90 } },
        { tenantId: 'tenant-b', policy: { historyRetentionDays: 90 } },
      ],
      async (tenantId) => {
        if (tenantId === 'tenant-a') throw new Error('Table Storage failed while reading the timeline (HTTP 503)');
        return 'pruned';
      },
      NOW,
      logger,
    );
    expect(outcomes.map((outcome) => [outcome.tenantId, outcome.error ?? outcome.result])).toEqual([
      ['tenant-a', 'Table Storage failed while reading the timeline (HTTP 503)'],
      ['tenant-b', 'pruned'],
    ]);
    expect(lines.find((line) => line.level === 'error')).toMatchObject({ fields: { tenantId: 'tenant-a', retentionDays: 90 } });
  });
});

describe('history-prune timer function', () => {
  it('registers on HISTORY_PRUNE_SCHEDULE, weekly by default', () => {
    const [byDefault] = registrationsOf('../../functions/history-prune', { HISTORY_PRUNE_SCHEDULE: undefined });
    expect(byDefault).toMatchObject({ kind: 'timer', name: 'history-prune', options: { schedule: '0 0 4 * * 0' } });
    const [configured] = registrationsOf('../../functions/history-prune', { HISTORY_PRUNE_SCHEDULE: '0 30 5 * * 6' });
    expect(configured).toMatchObject({ options: { schedule: '0 30 5 * * 6' } });
  });

  it('refuses a schedule that is not NCRONTAB, naming the setting', () => {
    expect(() => pruneSchedule({ HISTORY_PRUNE_SCHEDULE: '0 4 * * 0' })).toThrow(/HISTORY_PRUNE_SCHEDULE must be a 6-field NCRONTAB/);
  });
});
