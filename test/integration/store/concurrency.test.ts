import type { FindingValue } from '../../../shared/domain/finding';
import type { AuditStore } from '../../../shared/store/open';
import { day, observed } from '../../support/fixtures/scan';
import { TENANT } from '../../support/fixtures/tenant';
import { objectIdOf } from '../../support/fixtures/user';
import { newStore, scan } from '../../support/store';

/**
 * Two writers updating one finding: each read-modify-write carries the ETag it read, so a write
 * based on a stale read is refused (412) and re-applied on a fresh read. Single-entity operations
 * only: Azurite does not guard batch transactions with If-Match (its issue 1233).
 */
describe('concurrent updates of one finding', () => {
  let store: AuditStore;
  const ref = { ruleId: 'mailbox-audit-disabled' as const, objectId: objectIdOf(1) };

  beforeAll(async () => {
    store = newStore();
    await scan(store, [observed({ index: 1, auditEnabled: false })], day(1));
  });

  it('loses no update when two writers race', async () => {
    let attempts = 0;
    const writer = (name: string) => async () => {
      for (let i = 0; i < 15; i++) {
        await store.findings.update(TENANT, ref, (current) => {
          attempts++;
          const counter = Number(current.metadata.counter ?? 0);
          const writers = (current.metadata.writers as string[] | undefined) ?? [];
          const metadata: Record<string, FindingValue> = { ...current.metadata, counter: counter + 1, writers: [...writers, `${name}${i}`] };
          return { metadata };
        });
      }
    };
    await Promise.all([writer('a')(), writer('b')()]);
    const finding = await store.findings.get(TENANT, ref);
    expect(finding?.metadata.counter).toBe(30);
    expect((finding?.metadata.writers as string[]).length).toBe(30);
    // The race really happened: some mutations ran more than once because their write was refused.
    expect(attempts).toBeGreaterThan(30);
  });

  it('records each writer\'s event exactly once, numbered without gaps', async () => {
    const approve = (actor: string) =>
      store.findings.update(TENANT, ref, (current) =>
        current.status === 'open'
          ? { status: 'awaiting-approval', event: { type: 'approved', actor, reason: 'change ticket CHG-1' } }
          : { event: { type: 'failed', actor, reason: `already ${current.status}` } },
      );
    const before = (await store.findings.get(TENANT, ref))!;
    await Promise.all([approve('alice@contoso.example'), approve('bob@contoso.example')]);
    const after = (await store.findings.get(TENANT, ref))!;
    expect(after.status).toBe('awaiting-approval');
    expect(after.seq).toBe(before.seq + 2);

    const history = await store.events.forObject(TENANT, objectIdOf(1), { from: day(0), to: new Date(Date.now() + 60_000) }, { pageSize: 100 });
    const tail = history.items.filter((event) => event.seq > before.seq).map((event) => event.type).sort();
    expect(tail).toEqual(['approved', 'failed']);
    expect(history.items.find((event) => event.type === 'approved')).toMatchObject({ reason: 'change ticket CHG-1' });
  });

  it('returns undefined for a finding that does not exist', async () => {
    expect(await store.findings.update(TENANT, { ruleId: 'mailbox-audit-disabled', objectId: 'nobody' }, () => ({ status: 'failed' }))).toBeUndefined();
  });
});
