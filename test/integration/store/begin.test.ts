import { ServiceError } from '../../../shared/errors';
import { openStore } from '../../../shared/store/open';
import { TableScanRecorder } from '../../../shared/store/recorder';
import { day, observed, runAt } from '../../support/fixtures/scan';
import { TENANT } from '../../support/fixtures/tenant';
import { objectIdOf } from '../../support/fixtures/user';
import { newStore, scan } from '../../support/store';

describe('beginning a scan record', () => {
  it('fails fast with a storage error that names the endpoint, never the key', async () => {
    const key = 'c2VjcmV0LWtleS1mb3ItdGVzdHM=';
    const store = openStore({
      connectionString: `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${key};TableEndpoint=http://127.0.0.1:1/devstoreaccount1`,
      tablePrefix: 'unreachable',
    });
    const started = Date.now();
    const error = await new TableScanRecorder(store).begin(runAt(day(1))).catch((caught: unknown) => caught);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(error).toBeInstanceOf(ServiceError);
    expect(error).toMatchObject({ service: 'storage', transient: true });
    expect((error as Error).message).toMatch(/^Cannot reach Table Storage at http:\/\/127\.0\.0\.1:1\/devstoreaccount1 while creating table unreachablescans \(ECONNREFUSED\)/);
    expect((error as Error).message).not.toContain(key);
  }, 20_000);

  it('hands the scan the mailboxes where Exchange refused MailItemsAccessed', async () => {
    const store = newStore();
    await scan(store, [observed({ index: 1 }), observed({ index: 2 })], day(1));
    await store.mailboxes.recordMailItemsAccessedRefusal(TENANT, objectIdOf(2), {
      at: day(2),
      reason: 'Auditing of MailItemsAccessed event is only available for users with appropriate license.',
      userPrincipalName: 'user2@contoso.example',
    });
    await store.mailboxes.recordMailItemsAccessedRefusal(TENANT, objectIdOf(9), { at: day(2), reason: 'refused before any scan stored it' });
    const memory = await new TableScanRecorder(store).begin(runAt(day(3)));
    expect([...memory.mailItemsAccessedRefused].sort()).toEqual([objectIdOf(2), objectIdOf(9)]);
    expect(await store.mailboxes.current(TENANT, objectIdOf(2))).toMatchObject({ upn: 'user2@contoso.example', miaRefusedReason: expect.stringMatching(/appropriate license/) });

    await store.mailboxes.clearMailItemsAccessedRefusal(TENANT, objectIdOf(2));
    expect([...(await new TableScanRecorder(store).begin(runAt(day(4)))).mailItemsAccessedRefused]).toEqual([objectIdOf(9)]);
  });

  it('writes one snapshot per configuration change, and nothing for an unchanged mailbox', async () => {
    const store = newStore();
    await scan(store, [observed({ index: 1 })], day(1));
    await scan(store, [observed({ index: 1 })], day(2));
    // Same actions in another order: not a change.
    const reordered = observed({ index: 1 });
    reordered.mailbox!.auditActions.Owner = [...reordered.mailbox!.auditActions.Owner].reverse();
    await scan(store, [reordered], day(3));
    await scan(store, [observed({ index: 1, ageLimitDays: 365 })], day(4));
    expect((await store.mailboxes.configurationAt(TENANT, objectIdOf(1), day(3)))?.at).toEqual(day(1));
    expect((await store.mailboxes.configurationAt(TENANT, objectIdOf(1), day(5)))?.at).toEqual(day(4));
    let snapshots = 0;
    for await (const _row of store.mailboxes.snapshotKeys(TENANT)) snapshots++;
    expect(snapshots).toBe(2);
  });
});
