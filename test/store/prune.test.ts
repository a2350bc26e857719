import type { AuditStore } from '../../shared/store/open';
import { pruneHistory } from '../../shared/store/prune';
import { day, newStore, objectIdOf, observed, scan, TENANT } from './helpers';

async function eventTypes(store: AuditStore, index: number) {
  const page = await store.events.forObject(TENANT, objectIdOf(index), { from: day(-400), to: day(400) }, { pageSize: 100 });
  return page.items.map((event) => `${event.type}@${event.at.toISOString().slice(0, 10)}`);
}

async function tableNames(store: AuditStore) {
  const names: string[] = [];
  for await (const table of store.tables.serviceClient().listTables()) if (table.name?.startsWith(store.tables.names.prefix)) names.push(table.name);
  return names;
}

describe('pruneHistory', () => {
  let store: AuditStore;

  beforeAll(async () => {
    store = newStore();
    // December 2025: mailbox 4 drifts and is fixed; that month holds nothing else.
    await scan(store, [observed({ index: 4, auditEnabled: false })], day(-10));
    await scan(store, [observed({ index: 4 })], day(-5));
    // January 2026 onwards.
    await scan(store, [observed({ index: 1, auditEnabled: false }), observed({ index: 2, missing: ['Owner'] }), observed({ index: 3 }), observed({ index: 4 })], day(1));
    await scan(store, [observed({ index: 1, auditEnabled: false }), observed({ index: 2, missing: ['Owner'] }), observed({ index: 3, ageLimitDays: 365 }), observed({ index: 4 })], day(5));
    await scan(store, [observed({ index: 1 }), observed({ index: 2, missing: ['Owner'] }), observed({ index: 3, ageLimitDays: 365 }), observed({ index: 4 })], day(30));
    await scan(store, [observed({ index: 1 }), observed({ index: 2, missing: ['Owner'] }), observed({ index: 3, ageLimitDays: 200 }), observed({ index: 4 })], day(60));
  });

  it('deletes what is older than the retention, except open findings and the configuration in force', async () => {
    expect(await tableNames(store)).toContain(store.tables.names.timeline('202512'));
    const result = await pruneHistory(store, day(150), 100); // cutoff: day 50
    expect(result.cutoff).toEqual(day(50));

    // Mailbox 1's finding closed on day 30: its row and both its events are gone.
    expect(await eventTypes(store, 1)).toEqual([]);
    expect(await store.findings.get(TENANT, { ruleId: 'mailbox-audit-disabled', objectId: objectIdOf(1) })).toBeUndefined();
    // Mailbox 2's finding is still open: its detection on day 1 is kept, and so is the finding.
    expect(await eventTypes(store, 2)).toEqual(['detected@2026-01-02']);
    expect(await store.findings.get(TENANT, { ruleId: 'mailitemsaccessed-missing', objectId: objectIdOf(2), logonType: 'Owner' })).toMatchObject({ status: 'open' });
    // December held only closed history: the whole month table is dropped.
    expect(result.tablesDropped).toEqual([store.tables.names.timeline('202512')]);
    expect(await tableNames(store)).not.toContain(store.tables.names.timeline('202512'));
    expect(await eventTypes(store, 4)).toEqual([]);
    // January keeps the open finding's event, so its table stays.
    expect(await tableNames(store)).toContain(store.tables.names.timeline('202601'));
    expect(result.events).toBe(4);
    expect(result.findings).toBe(2);

    // Mailbox 3: snapshots on day 1 (deleted), day 5 (in force at the cutoff, kept), day 60 (kept).
    expect(await store.mailboxes.configurationAt(TENANT, objectIdOf(3), day(2))).toBeUndefined();
    expect((await store.mailboxes.configurationAt(TENANT, objectIdOf(3), day(50)))?.at).toEqual(day(5));
    expect((await store.mailboxes.configurationAt(TENANT, objectIdOf(3), day(61)))?.at).toEqual(day(60));
    // Mailbox 4 changed last on day -5: that snapshot is its latest and stays.
    expect((await store.mailboxes.configurationAt(TENANT, objectIdOf(4), day(100)))?.at).toEqual(day(-5));
    // Deleted: mailbox 1's day 1 (day 30 was in force), mailbox 3's day 1, mailbox 4's day -10.
    expect(result.snapshots).toBe(3);

    // Running it again finds nothing more to do.
    const again = await pruneHistory(store, day(150), 100);
    expect(again).toMatchObject({ events: 0, snapshots: 0, findings: 0, tablesDropped: [] });
  });

  it('refuses a retention that is not a positive number of days', async () => {
    await expect(pruneHistory(store, day(150), 0)).rejects.toThrow(/historyRetentionDays/);
  });
});
