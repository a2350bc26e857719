import { findingKey } from '../../../shared/domain/finding';
import { eventShardOf } from '../../../shared/store/events';
import type { AuditStore } from '../../../shared/store/open';
import { uniqueName } from '../../support/storage';
import type { MailboxSpec } from '../../support/fixtures/mailbox';
import { day, observed } from '../../support/fixtures/scan';
import { TENANT } from '../../support/fixtures/tenant';
import { objectIdOf } from '../../support/fixtures/user';
import { newStore, scan } from '../../support/store';

async function allFindings(store: AuditStore) {
  const page = await store.findings.list(TENANT, { status: 'all' }, { pageSize: 1000 });
  return new Map(page.items.map((finding) => [finding.key, finding]));
}

async function eventsOf(store: AuditStore, index: number) {
  const page = await store.events.forObject(TENANT, objectIdOf(index), { from: new Date(0), to: day(1000) }, { pageSize: 1000 });
  return page.items.map((event) => `${event.type}:${event.ruleId}${event.logonType ? `:${event.logonType}` : ''}`);
}

describe('a finding through its lifecycle', () => {
  let store: AuditStore;
  beforeAll(() => {
    store = newStore();
  });

  it('opens, stays open without writes, resolves, goes with its object, and honours exceptions', async () => {
    const night1: MailboxSpec[] = [
      { index: 1, auditEnabled: false },
      { index: 2, missing: ['Owner', 'Admin'] },
      { index: 3 },
      { index: 4, ageLimitDays: 90 },
    ];
    const first = await scan(store, night1.map((spec) => observed(spec)), day(1));
    expect(first.opened.map(findingKey).sort()).toEqual(
      [
        `mailbox-audit-disabled|${objectIdOf(1)}`,
        `mailitemsaccessed-missing|${objectIdOf(2)}|Admin`,
        `mailitemsaccessed-missing|${objectIdOf(2)}|Owner`,
        `mailbox-audit-log-age-short|${objectIdOf(4)}`,
      ].sort(),
    );
    expect(first).toMatchObject({ resolved: [], gone: [], stillOpen: 0 });

    // Night 2: same tenant. Still open, nothing new.
    const second = await scan(store, night1.map((spec) => observed(spec)), day(2));
    expect(second).toMatchObject({ opened: [], resolved: [], gone: [], stillOpen: 4 });
    const afterTwo = await allFindings(store);
    expect(afterTwo.get(`mailbox-audit-disabled|${objectIdOf(1)}`)).toMatchObject({ status: 'open', firstSeen: day(1), episode: 1, seq: 1 });

    // Night 3: mailbox 1 fixed, mailbox 2's Owner fixed, mailbox 4 deleted, mailbox 3 drifts, exception for 2's Admin.
    const night3 = [
      observed({ index: 1 }),
      observed({ index: 2, missing: ['Admin'] }, ['mailitemsaccessed-missing']),
      observed({ index: 3, auditEnabled: false }),
    ];
    const third = await scan(store, night3, day(3));
    expect(third.opened.map(findingKey)).toEqual([`mailbox-audit-disabled|${objectIdOf(3)}`]);
    expect(third.resolved.map((f) => findingKey(f as Parameters<typeof findingKey>[0])).sort()).toEqual(
      [`mailbox-audit-disabled|${objectIdOf(1)}`, `mailitemsaccessed-missing|${objectIdOf(2)}|Owner`].sort(),
    );
    expect(third.gone.map((f) => findingKey(f as Parameters<typeof findingKey>[0]))).toEqual([`mailbox-audit-log-age-short|${objectIdOf(4)}`]);
    expect(third.stillOpen).toBe(0);

    const findings = await allFindings(store);
    expect(findings.get(`mailbox-audit-disabled|${objectIdOf(1)}`)).toMatchObject({ status: 'resolved', closedAt: day(3), lastSeen: day(2) });
    expect(findings.get(`mailbox-audit-log-age-short|${objectIdOf(4)}`)).toMatchObject({ status: 'gone', lastSeen: day(2) });
    expect(findings.get(`mailitemsaccessed-missing|${objectIdOf(2)}|Admin`)).toMatchObject({
      status: 'excepted',
      exception: { reason: 'legal hold mailbox', expires: '2099-01-01' },
    });

    expect(await eventsOf(store, 1)).toEqual(['resolved:mailbox-audit-disabled', 'detected:mailbox-audit-disabled']);
    expect(await eventsOf(store, 2)).toEqual(
      expect.arrayContaining(['excepted:mailitemsaccessed-missing:Admin', 'resolved:mailitemsaccessed-missing:Owner']),
    );
    expect(await eventsOf(store, 4)).toEqual(['gone:mailbox-audit-log-age-short', 'detected:mailbox-audit-log-age-short']);

    // Night 4: mailbox 1 drifts again: a new episode, events continue their numbering.
    await scan(store, [observed({ index: 1, auditEnabled: false }), ...night3.slice(1)], day(4));
    const reopened = (await allFindings(store)).get(`mailbox-audit-disabled|${objectIdOf(1)}`);
    expect(reopened).toMatchObject({ status: 'open', episode: 2, seq: 3, episodeStartSeq: 3, firstSeen: day(4) });
    expect(await eventsOf(store, 1)).toEqual(['detected:mailbox-audit-disabled', 'resolved:mailbox-audit-disabled', 'detected:mailbox-audit-disabled']);
  });

  it('creates event tables by their first write, and reads a history whose table does not exist yet as empty', async () => {
    const prefix = uniqueName('shards');
    const fresh = newStore(prefix);
    await scan(fresh, [observed({ index: 1, auditEnabled: false }), observed({ index: 2 })], day(1));

    const tables: string[] = [];
    for await (const table of fresh.tables.serviceClient().listTables()) if (table.name?.startsWith(prefix)) tables.push(table.name.slice(prefix.length));
    const written = fresh.tables.names.eventShard(eventShardOf(objectIdOf(1))).slice(prefix.length);
    expect(tables.sort()).toEqual(['findings', 'mailboxes', 'scans', 'timeline202601', 'upnindex', written].sort());

    const unwritten = Array.from({ length: 500 }, (_, index) => objectIdOf(index + 10)).find((id) => eventShardOf(id) !== eventShardOf(objectIdOf(1)))!;
    await expect(fresh.events.forObject(TENANT, unwritten, { from: new Date(0), to: day(10) }, { pageSize: 10 })).resolves.toEqual({ items: [] });
  });
});
