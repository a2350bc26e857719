import { planChange, planClose, planObservation } from '../../../shared/lifecycle';
import { aFinding, after } from '../../support/fixtures/finding';
import { aScan, day } from '../../support/fixtures/scan';
import { TENANT } from '../../support/fixtures/tenant';

describe('planChange: what remediation and approval change', () => {
  const open = after(planObservation(undefined, aFinding(), undefined, aScan(day(1))));

  it('changes status and metadata without history when no event is given', () => {
    const transition = planChange(open, { status: 'awaiting-approval', metadata: { approvalId: 'a1' } }, TENANT, day(2));
    expect(transition).toMatchObject({ create: false, next: { status: 'awaiting-approval', seq: 1, episode: 1 } });
    expect(transition.update).toEqual({ updatedAt: day(2), status: 'awaiting-approval', metadata: { approvalId: 'a1' } });
    expect(transition.event).toBeUndefined();
  });

  it('records an event with who and why, numbered after the last one', () => {
    const transition = planChange(
      open,
      { status: 'remediating', event: { type: 'approved', actor: 'megan@contoso.example', reason: 'legal asked', details: { approvalId: 'a1' } } },
      TENANT,
      day(2),
    );
    expect(transition).toMatchObject({
      next: { status: 'remediating', seq: 2 },
      update: { status: 'remediating', seq: 2 },
      event: { tenantId: TENANT, seq: 2, type: 'approved', actor: 'megan@contoso.example', reason: 'legal asked', details: { approvalId: 'a1' }, at: day(2) },
    });
  });

  it("closes the episode at the event's time when the change ends the drift", () => {
    const verifiedAt = day(3);
    const transition = planChange(open, { status: 'resolved', event: { type: 'verified', actor: 'remediation', at: verifiedAt, scanId: 's1' } }, TENANT, day(4));
    expect(transition).toMatchObject({
      next: { status: 'resolved', seq: 2, episode: 1 },
      update: { updatedAt: day(4), closed: { at: verifiedAt, lastSeen: verifiedAt } },
      event: { type: 'verified', at: verifiedAt, scanId: 's1' },
    });
  });

  it('starts a new episode when a closed finding becomes active again', () => {
    const resolved = after(planClose(open, 'resolved', day(1), aScan(day(2))));
    const transition = planChange(resolved, { status: 'failed', event: { type: 'failed', actor: 'remediation' } }, TENANT, day(5));
    expect(transition).toMatchObject({
      next: { status: 'failed', episode: 2, seq: 3, episodeStartSeq: 3, firstSeen: day(5).toISOString() },
      update: { episode: { number: 2, firstSeen: day(5), startSeq: 3 } },
    });
    expect(transition.update.closed).toBeUndefined();
  });

  it('keeps the status when the change names none', () => {
    expect(planChange(open, { metadata: { attempts: 2 } }, TENANT, day(2)).next.status).toBe('open');
  });
});
