import { odata } from '@azure/data-tables';
import type { ObservedObject } from '../../../shared/domain/ports';
import type { AuditStore } from '../../../shared/store/open';
import { tenantPartitionRange } from '../../../shared/store/keys';
import { TableScanRecorder } from '../../../shared/store/recorder';
import { uniqueName } from '../../support/storage';
import { crashAfterWrites } from './crash';
import { day, observed, runAt } from '../../support/fixtures/scan';
import { objectIdOf } from '../../support/fixtures/user';
import { newStore, scan } from '../../support/store';

/**
 * A scan killed at any write, then re-run over the same tenant, must leave exactly what an
 * uninterrupted scan leaves: the same findings, the same events, no duplicates.
 */
const nightA: ObservedObject[] = [
  observed({ index: 1, auditEnabled: false }),
  observed({ index: 2, missing: ['Owner', 'Admin'] }),
  observed({ index: 3 }),
  observed({ index: 4, ageLimitDays: 90 }),
  observed({ index: 5, missing: ['Delegate'] }),
  observed({ index: 6 }),
];
const nightB: ObservedObject[] = [
  observed({ index: 1 }), // fixed → resolved
  observed({ index: 2, missing: ['Admin'] }, ['mailitemsaccessed-missing']), // Owner fixed, Admin excepted
  observed({ index: 3, auditEnabled: false, missing: ['Owner'] }), // new drift
  // 4 deleted → gone
  observed({ index: 5, missing: ['Delegate'], ageLimitDays: 30 }), // still open + new finding + config change
  observed({ index: 6, upn: 'renamed6@contoso.example' }), // renamed: new snapshot, no finding
  observed({ index: 7, auditEnabled: false }), // new mailbox with drift
];

interface Picture {
  findings: string[];
  events: string[];
  timeline: string[];
  snapshots: string[];
}

async function picture(store: AuditStore, tenantId: string): Promise<Picture> {
  const findings = await store.findings.list(tenantId, { status: 'all' }, { pageSize: 1000 });
  const events: string[] = [];
  const snapshots: string[] = [];
  for (let index = 1; index <= 7; index++) {
    const page = await store.events.forObject(tenantId, objectIdOf(index), { from: new Date(0), to: day(100) }, { pageSize: 1000 });
    events.push(...page.items.map((event) => `${event.eventId}:${event.type}`));
    const config = await store.mailboxes.current(tenantId, objectIdOf(index));
    if (config?.configHash) snapshots.push(`${index}:${config.configHash}`);
  }
  const timeline = await store.events.inMonth(tenantId, '202601', { from: new Date(0), to: day(100) }, { pageSize: 1000 });
  return {
    findings: findings.items
      .map((f) => `${f.key}:${f.status}:e${f.episode}:s${f.seq}:${f.exception?.reason ?? ''}:${f.severity}:${JSON.stringify(f.actual)}`)
      .sort(),
    events: events.sort(),
    timeline: timeline.items.map((event) => `${event.eventId}:${event.type}`).sort(),
    snapshots: snapshots.sort(),
  };
}

async function countSnapshots(store: AuditStore, tenantId: string): Promise<number> {
  const { low, high } = tenantPartitionRange(tenantId);
  let count = 0;
  const rows = store.tables
    .client(store.tables.names.mailboxes)
    .listEntities({ queryOptions: { filter: odata`PartitionKey ge ${low} and PartitionKey lt ${high} and RowKey ge ${'s|'} and RowKey lt ${'s}'}`, select: ['RowKey'] } });
  for await (const _row of rows) count++;
  return count;
}

describe('crash convergence', () => {
  const prefix = uniqueName('conv');
  // One crash policy per worker store, re-armed per crash point: stores create their tables once.
  const workers = Array.from({ length: 3 }, () => {
    const crash = crashAfterWrites(Number.MAX_SAFE_INTEGER);
    return { crash, dying: newStore(prefix, { additionalPolicies: [{ policy: crash.policy, position: 'perCall' }] }, { concurrency: 1 }) };
  });
  const dyingOptions = { flushRows: 4 };
  let clean: AuditStore;
  let reference: Picture;
  let referenceSnapshots: number;
  let writesOfB = 0;

  beforeAll(async () => {
    clean = newStore(prefix);
    const tenant = 'reference';
    await scan(clean, nightA, day(1), { tenantId: tenant });
    // Counted with the same settings as the crashing runs, so crash points cover all of its writes.
    await scan(workers[0]!.dying, nightB, day(2), { tenantId: tenant, ...dyingOptions });
    writesOfB = workers[0]!.crash.count();
    reference = await picture(clean, tenant);
    referenceSnapshots = await countSnapshots(clean, tenant);
  });

  it('has a reference worth comparing with', () => {
    expect(writesOfB).toBeGreaterThan(10);
    expect(reference.events.length).toBe(reference.timeline.length);
    expect(reference.findings.some((line) => line.includes(':gone:'))).toBe(true);
    expect(reference.findings.some((line) => line.includes(':excepted:'))).toBe(true);
  });

  it('converges whichever write the crash hits, without duplicate events', async () => {
    let leftMarkers = 0;
    const crashPoint = async (worker: (typeof workers)[number], crashAt: number) => {
      const tenant = `crash${crashAt}`;
      await scan(clean, nightA, day(1), { tenantId: tenant });
      worker.crash.arm(crashAt);
      await expect(scan(worker.dying, nightB, day(2), { tenantId: tenant, ...dyingOptions })).rejects.toThrow(/injected crash/);
      for await (const state of clean.findings.states(tenant)) if (state.pendingSeq > 0) leftMarkers++;

      await scan(clean, nightB, day(3), { tenantId: tenant });
      const after = await picture(clean, tenant);
      expect({ crashAt, ...after }).toEqual({ crashAt, ...reference });
      expect(new Set(after.events).size).toBe(after.events.length);
      expect(await countSnapshots(clean, tenant)).toBe(referenceSnapshots);
    };
    // Every crash point of the second night, from before its first write to before its last.
    const points = Array.from({ length: writesOfB }, (_, crashAt) => crashAt);
    await Promise.all(
      workers.map(async (worker, lane) => {
        for (const crashAt of points.filter((point) => point % workers.length === lane)) await crashPoint(worker, crashAt);
      }),
    );
    // Some crash points fell between a finding's row and its events: the outbox path was exercised.
    expect(leftMarkers).toBeGreaterThan(0);
    // Every crash point is a full pair of scans against Azurite: generous, because CI's 2 cores
    // also run the other suites at the same time.
  }, 240_000);

  it('resolves nothing when the scan is interrupted before complete', async () => {
    const tenant = 'interrupted';
    await scan(clean, nightA, day(1), { tenantId: tenant });
    const before = await picture(clean, tenant);

    const recorder = new TableScanRecorder(newStore(prefix));
    await recorder.begin(runAt(day(2), tenant));
    for (const object of nightB.slice(0, 3)) await recorder.observe(object);
    // ...and the process dies: no complete, no fail.
    const after = await picture(clean, tenant);
    expect(after.findings.filter((line) => /:(resolved|gone):/.test(line))).toEqual([]);
    expect(after.events.filter((line) => /:(resolved|gone)$/.test(line))).toEqual([]);
    expect(after.events.length).toBeGreaterThanOrEqual(before.events.length);

    const failed = new TableScanRecorder(newStore(prefix));
    await failed.begin(runAt(day(3), tenant));
    for (const object of nightB) await failed.observe(object);
    await failed.fail('Exchange Online throttled us for too long');
    expect((await picture(clean, tenant)).findings.filter((line) => /:(resolved|gone):/.test(line))).toEqual([]);

    const runs = await clean.scans.list(tenant, { pageSize: 10 });
    expect(runs.items.map((run) => run.status)).toEqual(['failed', 'interrupted', 'completed']);

    // And the next complete scan finishes the job.
    await scan(clean, nightB, day(4), { tenantId: tenant });
    expect((await picture(clean, tenant)).findings).toEqual(reference.findings);
  });
});
