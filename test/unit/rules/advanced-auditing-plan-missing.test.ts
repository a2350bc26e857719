import { advancedAuditingPlanMissing } from '../../../shared/rules/advanced-auditing-plan-missing';
import { MAILBOX_TYPE_NOT_IN_POLICY, NO_LICENCE } from '../../../shared/rules/scope';
import { COMPLIANCE_SKU, E5_SKU } from '../../support/fixtures/licence';
import { mailboxInput, sharedMailboxInput } from './inputs';

describe('advanced-auditing-plan-missing', () => {
  it('is a mailbox rule with its id', () => {
    expect(advancedAuditingPlanMissing).toMatchObject({ id: 'advanced-auditing-plan-missing', target: 'mailbox' });
  });

  it('is compliant when the plan is enabled, directly or through a group', () => {
    expect(advancedAuditingPlanMissing.evaluate(mailboxInput())).toEqual({ status: 'compliant' });
    expect(advancedAuditingPlanMissing.evaluate(mailboxInput({ plan: { source: 'group', viaGroups: ['g'] } }))).toEqual({ status: 'compliant' });
  });

  it('reports a plan disabled in the licence assignment, naming the SKUs sorted', () => {
    const input = mailboxInput({ plan: { enabled: false, disabledInSkus: [COMPLIANCE_SKU, E5_SKU], capabilityStatus: null, source: 'none' } });
    expect(advancedAuditingPlanMissing.evaluate(input)).toEqual({
      status: 'non-compliant',
      violations: [{ expected: 'Enabled', actual: `disabled in the licence assignment of SKU ${E5_SKU}, ${COMPLIANCE_SKU}` }],
    });
  });

  it('reports a plan that is absent from assignedPlans', () => {
    const input = mailboxInput({ plan: { enabled: false, capabilityStatus: null, source: 'none' } });
    expect(advancedAuditingPlanMissing.evaluate(input)).toEqual({
      status: 'non-compliant',
      violations: [{ expected: 'Enabled', actual: 'not in assignedPlans' }],
    });
  });

  it('reports a plan whose capabilityStatus is not Enabled', () => {
    const input = mailboxInput({ plan: { enabled: false, capabilityStatus: 'Suspended' } });
    expect(advancedAuditingPlanMissing.evaluate(input)).toEqual({
      status: 'non-compliant',
      violations: [{ expected: 'Enabled', actual: 'capabilityStatus Suspended' }],
    });
  });

  it("is not applicable when none of the user's SKUs includes the plan (an E3 user)", () => {
    const input = mailboxInput({ plan: { skuIncludesPlan: false, enabled: false, capabilityStatus: null, source: 'none' } });
    expect(advancedAuditingPlanMissing.evaluate(input)).toEqual({ status: 'not-applicable', reason: expect.stringContaining('SKU') });
  });

  it('is not applicable to a mailbox without a licence', () => {
    expect(advancedAuditingPlanMissing.evaluate(sharedMailboxInput())).toBe(NO_LICENCE);
  });

  it('is not applicable to a mailbox type outside policy.mailboxTypes', () => {
    const input = mailboxInput({ mailbox: { recipientTypeDetails: 'RoomMailbox' }, plan: { enabled: false, capabilityStatus: null } });
    expect(advancedAuditingPlanMissing.evaluate(input)).toBe(MAILBOX_TYPE_NOT_IN_POLICY);
  });
});
