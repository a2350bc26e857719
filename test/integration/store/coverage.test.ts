import { mailboxCoverage } from '../../../shared/rules/coverage';
import type { AuditStore } from '../../../shared/store/open';
import { TableScanRecorder } from '../../../shared/store/recorder';
import { day, observed, runAt, uniformCoverage } from '../../support/fixtures/scan';
import { TENANT } from '../../support/fixtures/tenant';
import { objectIdOf } from '../../support/fixtures/user';
import { newStore, scan } from '../../support/store';

async function snapshotCount(store: AuditStore): Promise<number> {
  let count = 0;
  for await (const _row of store.mailboxes.snapshotKeys(TENANT)) count++;
  return count;
}

const RECORDED = uniformCoverage('recorded');
const ORG_OFF = uniformCoverage('not-recorded', ['org-audit-disabled']);

describe('coverage verdicts stored with mailbox snapshots', () => {
  it('come back from configurationAt with the snapshot they were stored with', async () => {
    const store = newStore();
    const verdict = mailboxCoverage({ mailboxFindings: [], organizationFindings: [], ownAccountBypassed: true });
    await scan(store, [observed({ index: 1 }, [], verdict)], day(1));
    const snapshot = await store.mailboxes.configurationAt(TENANT, objectIdOf(1), day(1));
    expect(snapshot).toMatchObject({ at: day(1), configuration: { objectId: objectIdOf(1), auditEnabled: true } });
    expect(snapshot?.coverage).toEqual({
      verdict: 'not-recorded',
      byLogonType: {
        Owner: { state: 'not-recorded', reasons: ['audit-bypass-enabled'] },
        Delegate: { state: 'recorded', reasons: [] },
        Admin: { state: 'recorded', reasons: [] },
      },
    });
    expect((await store.mailboxes.latest(TENANT, objectIdOf(1)))?.coverage).toEqual(snapshot?.coverage);
  });

  it('write nothing when neither the configuration nor the verdict changed', async () => {
    const store = newStore();
    await scan(store, [observed({ index: 1 }, [], RECORDED)], day(1));
    await scan(store, [observed({ index: 1 }, [], RECORDED)], day(2));
    // The same verdict computed afresh (a new object, equal content) is no change either.
    await scan(store, [observed({ index: 1 }, [], mailboxCoverage({ mailboxFindings: [], organizationFindings: [], ownAccountBypassed: false }))], day(3));
    expect(await snapshotCount(store)).toBe(1);
    expect((await store.mailboxes.latest(TENANT, objectIdOf(1)))?.at).toEqual(day(1));
  });

  it('write a new snapshot when only the verdict changed (org auditing switched off and on again)', async () => {
    const store = newStore();
    await scan(store, [observed({ index: 1 }, [], RECORDED)], day(1));
    await scan(store, [observed({ index: 1 }, [], ORG_OFF)], day(2));
    await scan(store, [observed({ index: 1 }, [], ORG_OFF)], day(3));
    await scan(store, [observed({ index: 1 }, [], RECORDED)], day(4));
    expect(await snapshotCount(store)).toBe(3);

    const first = await store.mailboxes.configurationAt(TENANT, objectIdOf(1), day(1));
    const dark = await store.mailboxes.configurationAt(TENANT, objectIdOf(1), day(3));
    const back = await store.mailboxes.configurationAt(TENANT, objectIdOf(1), day(5));
    expect([first?.at, dark?.at, back?.at]).toEqual([day(1), day(2), day(4)]);
    expect([first?.coverage?.verdict, dark?.coverage?.verdict, back?.coverage?.verdict]).toEqual(['recorded', 'not-recorded', 'recorded']);
    expect(dark?.coverage?.byLogonType.Delegate.reasons).toEqual(['org-audit-disabled']);
    // The mailbox itself did not change.
    expect(dark?.configuration).toEqual(first?.configuration);
  });

  it('change with the configuration: a configuration change writes one snapshot carrying the new verdict', async () => {
    const store = newStore();
    await scan(store, [observed({ index: 1 })], day(1));
    await scan(store, [observed({ index: 1, missing: ['Delegate'] })], day(2));
    expect(await snapshotCount(store)).toBe(2);
    const before = await store.mailboxes.configurationAt(TENANT, objectIdOf(1), day(1));
    const after = await store.mailboxes.configurationAt(TENANT, objectIdOf(1), day(2));
    expect(before?.coverage?.verdict).toBe('recorded');
    expect(after?.coverage).toEqual({
      verdict: 'not-recorded',
      byLogonType: {
        Owner: { state: 'recorded', reasons: [] },
        Delegate: { state: 'not-recorded', reasons: ['mailitemsaccessed-missing'] },
        Admin: { state: 'recorded', reasons: [] },
      },
    });
  });

  it('are absent from snapshots recorded without one; the first verdict then writes a snapshot', async () => {
    const store = newStore();
    await scan(store, [observed({ index: 1 }, [], null)], day(1));
    const old = await store.mailboxes.configurationAt(TENANT, objectIdOf(1), day(1));
    expect(old).toBeDefined();
    expect(old).not.toHaveProperty('coverage');
    await scan(store, [observed({ index: 1 }, [], RECORDED)], day(2));
    expect(await snapshotCount(store)).toBe(2);
    expect((await store.mailboxes.latest(TENANT, objectIdOf(1)))?.coverage).toEqual(RECORDED);
  });

  it('keep the scan totals: the stored scan row carries the tally, and the next scan is handed it', async () => {
    const store = newStore();
    await scan(store, [observed({ index: 1 }), observed({ index: 2, missing: ['Owner'] }), observed({ index: 3, ageLimitDays: 30 })], day(1));
    const last = await store.scans.lastCompleted(TENANT);
    expect(last?.coverage).toEqual({
      mailboxes: 3,
      overall: { recorded: 1, 'at-risk': 1, 'not-recorded': 1 },
      byLogonType: {
        Owner: { recorded: 1, 'at-risk': 1, 'not-recorded': 1 },
        Delegate: { recorded: 2, 'at-risk': 1, 'not-recorded': 0 },
        Admin: { recorded: 2, 'at-risk': 1, 'not-recorded': 0 },
      },
    });
    const memory = await new TableScanRecorder(store).begin(runAt(day(2)));
    expect(memory.previousCoverage).toEqual(last?.coverage);
  });
});
