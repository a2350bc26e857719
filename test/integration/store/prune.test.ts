import type { AuditStore } from '../../../shared/store/open';
import { pruneHistory } from '../../../shared/store/prune';
import { day, observed } from '../../support/fixtures/scan';
import { OTHER_TENANT, TENANT } from '../../support/fixtures/tenant';
import { objectIdOf } from '../../support/fixtures/user';
import { newStore, scan } from '../../support/store';

async function eventTypes(store: AuditStore, index: number, tenantId = TENANT) {
  const page = await store.events.forObject(tenantId, objectIdOf(index), { from: day(-400), to: day(400) }, { pageSize: 100 });
  return page.items.map((event) => `${event.type}@${event.at.toISOString().slice(0, 10)}`);
}

async function tableNames(store: AuditStore) {
  const names: string[] = [];
  for await (const table of store.tables.serviceClient().listTables()) if (table.name?.startsWith(store.tables.names.prefix)) names.push(table.name);
  return names;
}

const days = (historyRetentionDays: number) => ({ historyRetentionDays });

describe('pruneHistory', () => {
  let store: AuditStore;

  beforeAll(async () => {
    store = newStore();
    // December 2025: mailbox 4 drifts and is fixed; that month holds nothing else of this tenant.
    await scan(store, [observed({ index: 4, auditEnabled: false })], day(-10));
    await scan(store, [observed({ index: 4 })], day(-5));
    // January 2026 onwards.
    await scan(store, [observed({ index: 1, auditEnabled: false }), observed({ index: 2, missing: ['Owner'] }), observed({ index: 3 }), observed({ index: 4 })], day(1));
    await scan(store, [observed({ index: 1, auditEnabled: false }), observed({ index: 2, missing: ['Owner'] }), observed({ index: 3, ageLimitDays: 365 }), observed({ index: 4 })], day(5));
    await scan(store, [observed({ index: 1 }), observed({ index: 2, missing: ['Owner'] }), observed({ index: 3, ageLimitDays: 365 }), observed({ index: 4 })], day(30));
    await scan(store, [observed({ index: 1 }), observed({ index: 2, missing: ['Owner'] }), observed({ index: 3, ageLimitDays: 200 }), observed({ index: 4 })], day(60));

    // Another tenant in the same tables: mailbox 7 drifts and is fixed in December, mailbox 8 drifts in January and stays so.
    const other = { tenantId: OTHER_TENANT };
    await scan(store, [observed({ index: 7, auditEnabled: false })], day(-10), other);
    await scan(store, [observed({ index: 7 })], day(-5), other);
    await scan(store, [observed({ index: 7 }), observed({ index: 8, auditEnabled: false })], day(1), other);
  });

  it("keeps a tenant's history its own policy still covers", async () => {
    const result = await pruneHistory(store, OTHER_TENANT, days(400), day(150));
    expect(result).toMatchObject({ tenantId: OTHER_TENANT, cutoff: day(-250), events: 0, snapshots: 0, findings: 0, tablesDropped: [] });
    expect(await eventTypes(store, 7, OTHER_TENANT)).toEqual(['resolved@2025-12-27', 'detected@2025-12-22']);
  });

  it('deletes what is older than the retention, except open findings and the configuration in force, and only of that tenant', async () => {
    expect(await tableNames(store)).toContain(store.tables.names.timeline('202512'));
    const result = await pruneHistory(store, TENANT, days(100), day(150)); // cutoff: day 50
    expect(result.cutoff).toEqual(day(50));

    // Mailbox 1's finding closed on day 30: its row and both its events are gone.
    expect(await eventTypes(store, 1)).toEqual([]);
    expect(await store.findings.get(TENANT, { ruleId: 'mailbox-audit-disabled', objectId: objectIdOf(1) })).toBeUndefined();
    // Mailbox 2's finding is still open: its detection on day 1 is kept, and so is the finding.
    expect(await eventTypes(store, 2)).toEqual(['detected@2026-01-02']);
    expect(await store.findings.get(TENANT, { ruleId: 'mailitemsaccessed-missing', objectId: objectIdOf(2), logonType: 'Owner' })).toMatchObject({ status: 'open' });
    // December's history of this tenant is gone, but the month table stays: the other tenant still has rows in it.
    expect(await eventTypes(store, 4)).toEqual([]);
    expect(result.tablesDropped).toEqual([]);
    expect(await tableNames(store)).toContain(store.tables.names.timeline('202512'));
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

    // The other tenant's history is untouched.
    expect(await eventTypes(store, 7, OTHER_TENANT)).toEqual(['resolved@2025-12-27', 'detected@2025-12-22']);
    expect((await store.mailboxes.configurationAt(OTHER_TENANT, objectIdOf(7), day(-8)))?.at).toEqual(day(-10));

    // Running it again finds nothing more to do.
    const again = await pruneHistory(store, TENANT, days(100), day(150));
    expect(again).toMatchObject({ events: 0, snapshots: 0, findings: 0, tablesDropped: [] });
  });

  it("drops a month's table once the last tenant with rows in it is pruned", async () => {
    const result = await pruneHistory(store, OTHER_TENANT, days(100), day(150));
    // Mailbox 7: both events, its closed finding and the day -10 snapshot (day -5 is its latest).
    expect(result).toMatchObject({ events: 2, findings: 1, snapshots: 1, tablesDropped: [store.tables.names.timeline('202512')] });
    expect(await tableNames(store)).not.toContain(store.tables.names.timeline('202512'));
    expect((await store.mailboxes.configurationAt(OTHER_TENANT, objectIdOf(7), day(100)))?.at).toEqual(day(-5));
    expect(await eventTypes(store, 8, OTHER_TENANT)).toEqual(['detected@2026-01-02']);
  });

  it('never deletes an open finding, its episode or a mailbox’s latest configuration, however short the retention', async () => {
    const result = await pruneHistory(store, OTHER_TENANT, days(1), day(150));
    expect(result).toMatchObject({ events: 0, findings: 0, snapshots: 0 });
    expect(await store.findings.get(OTHER_TENANT, { ruleId: 'mailbox-audit-disabled', objectId: objectIdOf(8) })).toMatchObject({ status: 'open', firstSeen: day(1) });
    expect(await eventTypes(store, 8, OTHER_TENANT)).toEqual(['detected@2026-01-02']);
    expect((await store.mailboxes.latest(OTHER_TENANT, objectIdOf(8)))?.at).toEqual(day(1));
    expect((await store.mailboxes.latest(OTHER_TENANT, objectIdOf(7)))?.at).toEqual(day(-5));
  });

  it('refuses a retention that is not a positive number of days', async () => {
    await expect(pruneHistory(store, TENANT, days(0), day(150))).rejects.toThrow(/historyRetentionDays/);
  });
});
