import { planChange, planClose, planObservation } from '../../../shared/lifecycle';
import { findingLocation, findingWrite, type FindingRow } from '../../../shared/store/findings';
import { deserializeEvent } from '../../../shared/store/events';
import { aFinding } from '../../support/fixtures/finding';
import { aScan, day } from '../../support/fixtures/scan';
import { TENANT } from '../../support/fixtures/tenant';

/** The row columns each lifecycle transition writes (no Azurite: findingWrite is pure). */
describe('findingWrite', () => {
  const opened = findingWrite(TENANT, undefined, planObservation(undefined, aFinding(), undefined, aScan(day(1)))!);
  const row: FindingRow = { ...opened.next, pendingSeq: 0, pendingEvent: '', etag: 'W/"1"' };

  it('creates a first sight where its key puts it, with empty metadata and its event as the outbox marker', () => {
    expect(opened.create).toBe(true);
    expect(opened.patch).toMatchObject({
      ...findingLocation(TENANT, aFinding()),
      tenantId: TENANT,
      findingKey: opened.next.key,
      status: 'open',
      firstSeen: day(1).toISOString(),
      lastSeen: '',
      closedAt: '',
      episode: 1,
      seq: 1,
      episodeStartSeq: 1,
      expected: '"MailItemsAccessed"',
      actual: 'null',
      metadata: '{}',
      pendingSeq: 1,
      updatedAt: day(1).toISOString(),
    });
    expect(deserializeEvent(opened.patch.pendingEvent!)).toEqual(opened.event);
    expect(opened.next).toMatchObject({ pendingSeq: 1, etag: '' });
  });

  it('rewrites changed details without touching status, seq or the marker', () => {
    const write = findingWrite(TENANT, row, planObservation(row, aFinding({ severity: 'critical' }), undefined, aScan(day(2)))!);
    expect(write.create).toBe(false);
    expect(write.patch).toMatchObject({ severity: 'critical', updatedAt: day(2).toISOString() });
    for (const column of ['status', 'seq', 'pendingSeq', 'pendingEvent', 'metadata', 'firstSeen', 'closedAt']) expect(write.patch).not.toHaveProperty(column);
    expect(write.next).toMatchObject({ pendingSeq: 0, pendingEvent: '', etag: 'W/"1"' });
  });

  it('closes a finding with when it closed and was last seen', () => {
    const write = findingWrite(TENANT, row, planClose(row, 'resolved', day(1), aScan(day(2)))!);
    expect(write.patch).toEqual({
      partitionKey: row.partitionKey,
      rowKey: row.rowKey,
      status: 'resolved',
      seq: 2,
      closedAt: day(2).toISOString(),
      lastSeen: day(1).toISOString(),
      pendingSeq: 2,
      pendingEvent: write.patch.pendingEvent,
      updatedAt: day(2).toISOString(),
    });
  });

  it("writes a remediation change on the row where it was read (a row under a rule's earlier id included)", () => {
    const earlier: FindingRow = { ...row, rowKey: `${row.rowKey}-earlier-id` };
    const write = findingWrite(TENANT, earlier, planChange(earlier, { status: 'awaiting-approval', metadata: { approvalId: 'a1' } }, TENANT, day(3)));
    expect(write.patch).toEqual({
      partitionKey: row.partitionKey,
      rowKey: earlier.rowKey,
      status: 'awaiting-approval',
      metadata: '{"approvalId":"a1"}',
      updatedAt: day(3).toISOString(),
    });
  });
});
