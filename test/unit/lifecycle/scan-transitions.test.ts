import { detailHashOf, planClose, planObservation, type FindingState } from '../../../shared/lifecycle';
import { aFinding, after } from '../../support/fixtures/finding';
import { anException } from '../../support/fixtures/policy';
import { aScan, day } from '../../support/fixtures/scan';
import { TENANT } from '../../support/fixtures/tenant';
import { OBJECT_ID } from '../../support/fixtures/user';

const KEY = `mailitemsaccessed-missing|${OBJECT_ID}|Owner`;

describe('planObservation: what a scan seeing a finding changes', () => {
  it('opens a finding on first sight: episode 1, a detected event numbered 1', () => {
    const transition = planObservation(undefined, aFinding(), undefined, aScan(day(1)));
    expect(transition).toMatchObject({
      create: true,
      next: { key: KEY, status: 'open', firstSeen: day(1).toISOString(), episode: 1, seq: 1, episodeStartSeq: 1, detailHash: detailHashOf(aFinding()) },
      update: { updatedAt: day(1), status: 'open', seq: 1, episode: { number: 1, firstSeen: day(1), startSeq: 1 } },
      event: {
        tenantId: TENANT,
        eventId: `${KEY}|1`,
        seq: 1,
        type: 'detected',
        ruleId: 'mailitemsaccessed-missing',
        logonType: 'Owner',
        at: day(1),
        actor: `scan:${day(1).toISOString()}`,
        scanId: day(1).toISOString(),
        details: { expected: 'MailItemsAccessed', actual: null },
      },
    });
    expect(transition?.update.observed).toEqual({ finding: aFinding(), detailHash: detailHashOf(aFinding()) });
  });

  it('opens a finding the policy excepts as excepted, with the reason and expiry', () => {
    const transition = planObservation(undefined, aFinding(), anException(), aScan(day(1)));
    expect(transition).toMatchObject({
      next: { status: 'excepted', episode: 1, seq: 1 },
      event: { type: 'excepted', reason: 'legal hold mailbox', details: { expires: '2099-01-01' } },
    });
  });

  it('writes nothing for a finding that is simply still there', () => {
    const open = after(planObservation(undefined, aFinding(), undefined, aScan(day(1))));
    expect(planObservation(open, aFinding(), undefined, aScan(day(2)))).toBeUndefined();
  });

  it('rewrites changed details without an event, keeping status, episode and first sight', () => {
    const open = after(planObservation(undefined, aFinding(), undefined, aScan(day(1))));
    const renamed = aFinding({ userPrincipalName: 'adele.vance@contoso.example' });
    const transition = planObservation(open, renamed, undefined, aScan(day(2)));
    expect(transition).toMatchObject({ create: false, next: { status: 'open', firstSeen: day(1).toISOString(), seq: 1, upn: 'adele.vance@contoso.example' } });
    expect(transition?.event).toBeUndefined();
    expect(transition?.update).toEqual({ updatedAt: day(2), observed: { finding: renamed, detailHash: detailHashOf(renamed) } });
  });

  it('leaves a remediation status alone while the drift lasts', () => {
    const awaiting: FindingState = { ...after(planObservation(undefined, aFinding(), undefined, aScan(day(1)))), status: 'awaiting-approval' };
    expect(planObservation(awaiting, aFinding(), undefined, aScan(day(2)))).toBeUndefined();
    expect(planObservation(awaiting, aFinding({ severity: 'critical' }), undefined, aScan(day(2)))?.next.status).toBe('awaiting-approval');
  });

  it('moves into an exception and out of it again, each with its event', () => {
    const open = after(planObservation(undefined, aFinding(), undefined, aScan(day(1))));
    const into = planObservation(open, aFinding(), anException(), aScan(day(2)));
    expect(into).toMatchObject({ next: { status: 'excepted', seq: 2, episode: 1 }, update: { status: 'excepted', seq: 2 }, event: { type: 'excepted', seq: 2, reason: 'legal hold mailbox' } });
    expect(into?.update.episode).toBeUndefined();

    const out = planObservation(after(into), aFinding(), undefined, aScan(day(3)));
    expect(out).toMatchObject({
      next: { status: 'open', seq: 3, episode: 1, firstSeen: day(1).toISOString() },
      event: { type: 'detected', seq: 3, reason: 'the policy exception expired or was removed' },
    });
  });

  it('rewrites an exception whose expiry changed, without an event', () => {
    const excepted = after(planObservation(undefined, aFinding(), anException(), aScan(day(1))));
    const extended = planObservation(excepted, aFinding(), anException({ expires: '2100-01-01' }), aScan(day(2)));
    expect(extended).toMatchObject({ next: { status: 'excepted', seq: 1 }, update: { observed: { exception: { expires: '2100-01-01' } } } });
    expect(extended?.event).toBeUndefined();
  });

  it('reopens a closed finding as a new episode whose events continue the numbering', () => {
    const open = after(planObservation(undefined, aFinding(), undefined, aScan(day(1))));
    const resolved = after(planClose(open, 'resolved', day(1), aScan(day(2))));
    const reopened = planObservation(resolved, aFinding(), undefined, aScan(day(5)));
    expect(reopened).toMatchObject({
      create: false,
      next: { status: 'open', episode: 2, seq: 3, episodeStartSeq: 3, firstSeen: day(5).toISOString() },
      update: { status: 'open', seq: 3, episode: { number: 2, firstSeen: day(5), startSeq: 3 } },
      event: { type: 'detected', eventId: `${KEY}|3` },
    });
  });
});

describe('planClose: what a completed scan that no longer sees a finding changes', () => {
  const open = after(planObservation(undefined, aFinding(), undefined, aScan(day(1))));

  it('resolves a finding no longer seen on an object still there, remembering when it was last seen', () => {
    const transition = planClose(open, 'resolved', day(1), aScan(day(2)));
    expect(transition).toMatchObject({
      create: false,
      next: { status: 'resolved', seq: 2, episode: 1 },
      update: { updatedAt: day(2), status: 'resolved', seq: 2, closed: { at: day(2), lastSeen: day(1) } },
      event: { type: 'resolved', seq: 2, details: { lastSeen: day(1).toISOString(), previousStatus: 'open' } },
    });
    expect(transition?.event?.reason).toBeUndefined();
  });

  it('closes a finding whose object is gone as gone, saying why', () => {
    expect(planClose(open, 'gone', day(1), aScan(day(2)))).toMatchObject({
      next: { status: 'gone' },
      event: { type: 'gone', reason: 'the object no longer exists in the tenant' },
    });
  });

  it('closes an excepted or remediating finding too, naming the status it had', () => {
    expect(planClose({ ...open, status: 'remediating' }, 'resolved', day(1), aScan(day(2)))?.event?.details).toMatchObject({ previousStatus: 'remediating' });
    expect(planClose({ ...open, status: 'excepted' }, 'resolved', day(1), aScan(day(2)))?.next.status).toBe('resolved');
  });

  it('does nothing to a finding that is already closed, or was never recorded', () => {
    const resolved = after(planClose(open, 'resolved', day(1), aScan(day(2))));
    expect(planClose(resolved, 'resolved', day(1), aScan(day(3)))).toBeUndefined();
    expect(planClose(resolved, 'gone', day(1), aScan(day(3)))).toBeUndefined();
    expect(planClose(undefined, 'resolved', day(1), aScan(day(3)))).toBeUndefined();
  });
});
