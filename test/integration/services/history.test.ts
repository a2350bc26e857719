import { allPages, HistoryService, type FindingView } from '../../../shared/services/history';
import type { AuditStore } from '../../../shared/store/open';
import { QueryParameterError } from '../../../shared/services/history-params';
import { day } from '../../support/fixtures/scan';
import { objectIdOf } from '../../support/fixtures/user';
import { FORMULA_REASON, INJECTIONS, QUOTED_UPN, recordedHistory } from '../../support/history';

const keysOf = (items: FindingView[]) => items.map((finding) => finding.key).sort();

describe('drift-history queries', () => {
  let store: AuditStore;
  let history: HistoryService;
  let other: HistoryService;

  beforeAll(async () => {
    ({ store, history, other } = await recordedHistory());
  });

  describe('findings', () => {
    it('lists the active findings by default, with lastSeen derived from the last completed scan', async () => {
      const page = await history.findings({});
      expect(keysOf(page.items)).toEqual(
        [
          `mailbox-audit-disabled|${objectIdOf(3)}`,
          `mailitemsaccessed-missing|${objectIdOf(2)}|Admin`,
          `mailitemsaccessed-missing|${objectIdOf(2)}|Owner`,
          `mailitemsaccessed-missing|${objectIdOf(6)}|Delegate`,
          `mailbox-audit-log-age-short|${objectIdOf(7)}`,
        ].sort(),
      );
      const owner = page.items.find((finding) => finding.key.endsWith('|Owner'))!;
      expect(owner).toMatchObject({ status: 'open', firstSeen: day(1).toISOString(), lastSeen: day(45).toISOString(), severity: 'high' });
      expect(page.items.find((finding) => finding.ruleId === 'mailbox-audit-log-age-short')).toMatchObject({
        status: 'excepted',
        exception: { reason: FORMULA_REASON, expires: '2099-01-01' },
      });
      expect(page.continuationToken).toBeUndefined();
    });

    it('filters by rule, severity, status and mailbox (object id or UPN, any case)', async () => {
      expect(keysOf((await history.findings({ rule: 'mailbox-audit-disabled' })).items)).toEqual([`mailbox-audit-disabled|${objectIdOf(3)}`]);
      // AuditEnabled False on a user mailbox and a short mailbox audit log are both low since the 2026 pack.
      expect((await history.findings({ severity: 'low' })).items.map((f) => f.objectId).sort()).toEqual([objectIdOf(3), objectIdOf(7)]);
      expect((await history.findings({ severity: 'high' })).items.map((f) => f.objectId).sort()).toEqual([objectIdOf(2), objectIdOf(2), objectIdOf(6)]);
      expect((await history.findings({ severity: 'critical' })).items).toEqual([]);
      const resolved = await history.findings({ status: 'resolved' });
      expect(resolved.items).toHaveLength(1);
      expect(resolved.items[0]).toMatchObject({ objectId: objectIdOf(1), closedAt: day(40).toISOString(), lastSeen: day(1).toISOString() });
      expect((await history.findings({ status: 'gone' })).items.map((f) => f.objectId)).toEqual([objectIdOf(4)]);
      expect((await history.findings({ status: 'all' })).items).toHaveLength(7);
      expect(keysOf((await history.findings({ mailbox: 'USER2@Contoso.Example' })).items)).toHaveLength(2);
      expect(keysOf((await history.findings({ mailbox: objectIdOf(2).toUpperCase() })).items)).toHaveLength(2);
      expect((await history.findings({ mailbox: QUOTED_UPN })).items.map((f) => f.logonType)).toEqual(['Delegate']);
    });

    it('pages with continuation tokens, every finding once', async () => {
      const seen: string[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const page = await history.findings({ status: 'all', pageSize: 2, continuationToken: token });
        expect(page.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.items.map((finding) => finding.key));
        token = page.continuationToken;
        pages++;
      } while (token);
      expect(pages).toBeGreaterThanOrEqual(4);
      expect(seen.sort()).toEqual(keysOf((await history.findings({ status: 'all' })).items));
    });

    it('refuses a token that was tampered with, or used with other filters or another query', async () => {
      const first = await history.findings({ status: 'all', pageSize: 2 });
      const token = first.continuationToken!;
      await expect(history.findings({ status: 'open', pageSize: 2, continuationToken: token })).rejects.toThrow(QueryParameterError);
      await expect(history.scans({ continuationToken: token })).rejects.toThrow(/continuationToken/);
      const body = JSON.parse(Buffer.from(token, 'base64url').toString()) as Record<string, unknown>;
      const forged = Buffer.from(JSON.stringify({ ...body, t: Buffer.from('{"nextPartitionKey":1}').toString('base64') })).toString('base64url');
      await expect(history.findings({ status: 'all', pageSize: 2, continuationToken: forged })).rejects.toThrow(QueryParameterError);
      await expect(history.findings({ status: 'all', continuationToken: 'not a token!' })).rejects.toMatchObject({ parameter: 'continuationToken' });
      await expect(history.findings({ status: 'all', continuationToken: 'eyJ2IjoxfQ' })).rejects.toMatchObject({ parameter: 'continuationToken' });
    });

    it('never shows another tenant', async () => {
      // The other tenant has look-alike findings (same object ids), first seen on day 44.
      const mine = (await history.findings({ status: 'all' })).items;
      const theirs = (await other.findings({ status: 'all' })).items;
      expect(theirs.map((finding) => finding.firstSeen)).toEqual([day(44), day(44), day(44)].map((date) => date.toISOString()));
      expect(mine.filter((finding) => finding.firstSeen === day(44).toISOString())).toEqual([]);
    });
  });

  describe("a mailbox's history", () => {
    it('lists its events newest first, by UPN or object id, within a window', async () => {
      const byUpn = await history.mailboxHistory({ mailbox: 'user1@contoso.example' });
      expect(byUpn.mailbox).toMatchObject({ objectId: objectIdOf(1), userPrincipalName: 'user1@contoso.example', known: true });
      expect(byUpn.items.map((event) => `${event.type}@${event.at.slice(0, 10)}`)).toEqual(['resolved@2026-02-10', 'detected@2026-01-02']);
      expect(byUpn.items[0]).toMatchObject({ actor: expect.stringMatching(/^scan:/), details: { lastSeen: day(1).toISOString() } });

      const byId = await history.mailboxHistory({ mailbox: objectIdOf(1), from: day(30), to: day(50) });
      expect(byId.items.map((event) => event.type)).toEqual(['resolved']);
      expect((await history.mailboxHistory({ mailbox: objectIdOf(1), to: day(30) })).items.map((event) => event.type)).toEqual(['detected']);
    });

    it('pages through a history', async () => {
      const all = await allPages((continuationToken) => history.mailboxHistory({ mailbox: objectIdOf(2), pageSize: 1, continuationToken }));
      const events: string[] = [];
      for await (const event of all) events.push(`${event.type}:${event.logonType}`);
      expect(events.sort()).toEqual(['detected:Admin', 'detected:Owner']);
    });

    it('tells the audit configuration in force at a point in time', async () => {
      const before = await history.configurationAt(objectIdOf(3), day(0));
      expect(before.configuration).toBeNull();
      const january = await history.configurationAt('user3@contoso.example', day(20));
      expect(january.configuration).toMatchObject({ inForceSince: day(1).toISOString(), configuration: { auditEnabled: true } });
      const february = await history.configurationAt(objectIdOf(3), day(41));
      expect(february.configuration).toMatchObject({ inForceSince: day(40).toISOString(), configuration: { auditEnabled: false } });
      // Unchanged on day 45: no new snapshot, day 40's stays in force.
      expect((await history.configurationAt(objectIdOf(3), day(46))).configuration?.inForceSince).toBe(day(40).toISOString());
      const withAt = await history.mailboxHistory({ mailbox: objectIdOf(3), at: day(41) });
      expect(withAt.configuration).toMatchObject({ configuration: { auditEnabled: false } });
    });

    it('tells whether the mailbox\'s reads were recorded then: the verdict stored with the snapshot', async () => {
      const january = await history.configurationAt(objectIdOf(3), day(20));
      expect(january.configuration?.coverage?.verdict).toBe('recorded');
      // AuditEnabled False on a user mailbox: recorded (Exchange ignores it), at risk.
      const february = await history.configurationAt(objectIdOf(3), day(41));
      expect(february.configuration?.coverage).toEqual({
        verdict: 'at-risk',
        byLogonType: {
          Owner: { state: 'at-risk', reasons: ['mailbox-audit-disabled'] },
          Delegate: { state: 'at-risk', reasons: ['mailbox-audit-disabled'] },
          Admin: { state: 'at-risk', reasons: ['mailbox-audit-disabled'] },
        },
      });
      const two = await history.configurationAt(objectIdOf(2), day(41));
      expect(two.configuration?.coverage?.verdict).toBe('not-recorded');
      expect(two.configuration?.coverage?.byLogonType.Delegate).toEqual({ state: 'recorded', reasons: [] });
    });

    it('shows each scan\'s coverage tally', async () => {
      const [latest] = (await history.scans({ pageSize: 1 })).items;
      expect(latest?.coverage?.mailboxes).toBe(5);
      expect(latest?.coverage?.overall).toEqual({ recorded: 1, 'at-risk': 2, 'not-recorded': 2 });
    });

    it('answers an unknown mailbox with nothing', async () => {
      const page = await history.mailboxHistory({ mailbox: 'nobody@contoso.example' });
      expect(page).toMatchObject({ items: [], mailbox: { known: false } });
    });
  });

  describe('events in a time window', () => {
    it('lists events across months, newest first, filtered by type and rule', async () => {
      // One page per month at most: February's, then a token that leads to January.
      const february = await history.events({ from: day(0), to: day(50), pageSize: 100 });
      expect(february.items.map((event) => `${event.at.slice(0, 10)} ${event.type} ${event.objectId.slice(-1)}`).sort()).toEqual([
        '2026-02-10 detected 3',
        '2026-02-10 gone 4',
        '2026-02-10 resolved 1',
      ]);
      const january = await history.events({ from: day(0), to: day(50), pageSize: 100, continuationToken: february.continuationToken });
      expect(january.items.map((event) => event.at.slice(0, 10))).toEqual(Array(6).fill('2026-01-02'));
      expect(january.continuationToken).toBeUndefined();

      const all: string[] = [];
      const times: string[] = [];
      for await (const event of allPages((continuationToken) => history.events({ from: day(0), to: day(50), pageSize: 2, continuationToken }))) {
        all.push(event.eventId);
        times.push(event.at);
      }
      expect(all.sort()).toEqual([...february.items, ...january.items].map((event) => event.eventId).sort());
      expect(new Set(all).size).toBe(all.length);
      expect(times).toEqual([...times].sort().reverse());

      const collect = async (query: { rule?: 'mailbox-audit-disabled'; type?: 'gone' }) => {
        const found: Array<{ type: string; objectId: string }> = [];
        for await (const event of allPages((continuationToken) => history.events({ from: day(0), to: day(50), ...query, continuationToken }))) found.push(event);
        return found;
      };
      expect((await collect({ type: 'gone' })).map((event) => event.objectId)).toEqual([objectIdOf(4)]);
      // Same instant: ordered by object id after the time.
      expect((await collect({ rule: 'mailbox-audit-disabled' })).map((event) => `${event.type} ${event.objectId.slice(-1)}`)).toEqual([
        'resolved 1',
        'detected 3',
        'detected 1',
      ]);
    });

    it('defaults to the last week and refuses windows that make no sense', async () => {
      const lastWeek = await history.events({});
      expect(lastWeek.items.length).toBeGreaterThan(0);
      expect(lastWeek.items.every((event) => event.at >= day(39).toISOString())).toBe(true);
      await expect(history.events({ from: day(10), to: day(5) })).rejects.toMatchObject({ parameter: 'from' });
      await expect(history.events({ from: new Date('2001-01-01'), to: day(5) })).rejects.toMatchObject({ parameter: 'from' });
    });
  });

  it('lists scan runs newest first, with totals, page by page', async () => {
    const first = await history.scans({ pageSize: 2 });
    expect(first.items.map((run) => run.startedAt)).toEqual([day(45).toISOString(), day(40).toISOString()]);
    expect(first.items[0]).toMatchObject({ status: 'completed', mailboxes: 5, opened: 0, resolved: 0, gone: 0, durationMs: 60_000 });
    expect(first.items[1]).toMatchObject({ opened: 1, resolved: 1, gone: 1 });
    const second = await history.scans({ pageSize: 2, continuationToken: first.continuationToken });
    expect(second.items.map((run) => run.startedAt)).toEqual([day(1).toISOString()]);
    expect(second.continuationToken).toBeUndefined();
    expect((await other.scans()).items).toHaveLength(1);
  });

  describe('injection attempts return nothing they should not', () => {
    // The schemas refuse most of these at the front ends; here they reach the service directly.
    it.each(INJECTIONS)('%s', async (attempt) => {
      expect((await history.findings({ mailbox: attempt, status: 'all' })).items).toEqual([]);
      expect((await history.findings({ rule: attempt as never, status: 'all' })).items).toEqual([]);
      expect((await history.findings({ severity: attempt as never, status: 'all' })).items).toEqual([]);
      expect((await history.findings({ status: attempt as never })).items).toEqual([]);
      expect((await history.mailboxHistory({ mailbox: attempt })).items).toEqual([]);
      expect((await history.configurationAt(attempt, day(100))).configuration).toBeNull();
      expect((await history.events({ from: day(0), to: day(50), rule: attempt as never })).items).toEqual([]);
      expect((await history.events({ from: day(0), to: day(50), type: attempt as never })).items).toEqual([]);
      // A tenant id is configuration, not input; still, it is encoded like any key part.
      expect((await new HistoryService(store, attempt).findings({ status: 'all' })).items).toEqual([]);
    });
  });
});
