import type { Finding, RuleId } from '../../../shared/domain/finding';
import { findingKey } from '../../../shared/domain/finding';
import { HistoryService } from '../../../shared/services/history';
import type { ObservedObject } from '../../../shared/domain/ports';
import { parseFindingKey } from '../../../shared/store/findings';
import type { AuditStore } from '../../../shared/store/open';
import { day, observed } from '../../support/fixtures/scan';
import { TENANT } from '../../support/fixtures/tenant';
import { objectIdOf } from '../../support/fixtures/user';
import { newStore, scan } from '../../support/store';

/** The id the 2025 pack gave the AuditLogAgeLimit rule, as rows written then still carry it. */
const OLD_ID = 'retention-too-short' as RuleId;
const NEW_ID = 'mailbox-audit-log-age-short';

/** Mailbox `index` with AuditLogAgeLimit 90, observed as a scan of the given pack would report it. */
function shortLog(index: number, ruleId: RuleId): ObservedObject {
  const object = observed({ index, ageLimitDays: 90 });
  object.findings = object.findings.map((finding): Finding => ({ ...finding, ruleId }));
  return object;
}

async function allFindings(store: AuditStore) {
  return (await store.findings.list(TENANT, { status: 'all' }, { pageSize: 1000 })).items;
}

describe('rows stored under a rule id that the 2026 pack renamed', () => {
  let store: AuditStore;

  beforeAll(async () => {
    store = newStore();
    // Written as the earlier pack wrote it: finding row, detected event and scan totals under retention-too-short.
    const first = await scan(store, [shortLog(1, OLD_ID), observed({ index: 2 })], day(1));
    expect(first.opened.map((finding) => finding.ruleId as string)).toEqual([OLD_ID]);
  });

  it('read back a finding row as mailbox-audit-log-age-short', async () => {
    const findings = await allFindings(store);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ ruleId: NEW_ID, objectId: objectIdOf(1), status: 'open', expected: '>= 180 days', actual: 90 });

    const states = [];
    for await (const state of store.findings.states(TENANT)) states.push(state);
    expect(states.map((state) => state.ruleId)).toEqual([NEW_ID]);
  });

  it('read back a finding key under the new id', () => {
    expect(parseFindingKey(`${OLD_ID}|${objectIdOf(1)}`)).toEqual({ ruleId: NEW_ID, objectId: objectIdOf(1) });
    expect(parseFindingKey(`${OLD_ID}|${objectIdOf(1)}|Owner`)).toEqual({ ruleId: NEW_ID, objectId: objectIdOf(1), logonType: 'Owner' });
  });

  it('read back a drift event as mailbox-audit-log-age-short, by object and by time', async () => {
    const byObject = await store.events.forObject(TENANT, objectIdOf(1), { from: day(0), to: day(2) }, { pageSize: 100 });
    expect(byObject.items.map((event) => [event.type, event.ruleId])).toEqual([['detected', NEW_ID]]);
    const byTime = await store.events.inMonth(TENANT, '202601', { from: day(0), to: day(2) }, { pageSize: 100 });
    expect(byTime.items.map((event) => [event.type, event.ruleId])).toEqual([['detected', NEW_ID]]);

  });

  it('are found when a finding is read, or findings and events are filtered, by the current id', async () => {
    expect(await store.findings.get(TENANT, { ruleId: NEW_ID, objectId: objectIdOf(1) })).toMatchObject({ ruleId: NEW_ID, status: 'open' });
    const findings = await store.findings.list(TENANT, { status: 'all', ruleId: NEW_ID }, { pageSize: 1000 });
    expect(findings.items.map((finding) => finding.objectId)).toEqual([objectIdOf(1)]);
    const events = await store.events.inMonth(TENANT, '202601', { from: day(0), to: day(2), ruleId: NEW_ID }, { pageSize: 100 });
    expect(events.items.map((event) => [event.type, event.ruleId])).toEqual([['detected', NEW_ID]]);
  });

  it('read back a scan row whose counts carry the old id under the new id', async () => {
    const last = await store.scans.lastCompleted(TENANT);
    expect(last?.findingsByRule).toEqual({ [NEW_ID]: 1 });
    const listed = await store.scans.list(TENANT, { pageSize: 10 });
    expect(listed.items[0]?.findingsByRule).toEqual({ [NEW_ID]: 1 });
  });

  it('show under the new id in the history queries', async () => {
    const history = new HistoryService(store, TENANT, () => day(2));
    expect((await history.findings({})).items.map((finding) => finding.ruleId)).toEqual([NEW_ID]);
    expect((await history.scans({})).items[0]?.findingsByRule).toEqual({ [NEW_ID]: 1 });
  });

  it('continue as the same finding when the new pack reports it: no phantom resolution and re-detection', async () => {
    const second = await scan(store, [shortLog(1, NEW_ID), observed({ index: 2 })], day(2));
    expect({ opened: second.opened.map(findingKey), resolved: second.resolved.map((closed) => findingKey(closed as Parameters<typeof findingKey>[0])), gone: second.gone }).toEqual({ opened: [], resolved: [], gone: [] });
    expect(second.stillOpen).toBe(1);

    const findings = await allFindings(store);
    expect(findings.filter((finding) => finding.status === 'open').map((finding) => [finding.ruleId, finding.firstSeen])).toEqual([[NEW_ID, day(1)]]);
    const events = await store.events.forObject(TENANT, objectIdOf(1), { from: day(0), to: day(3) }, { pageSize: 100 });
    expect(events.items.map((event) => `${event.type}:${event.ruleId}`)).toEqual([`detected:${NEW_ID}`]);
  });
});

