import { CUSTOMISED, MANAGED, defaultAuditSetCustomised } from '../../../shared/rules/default-audit-set-customised';
import { MAILBOX_TYPE_NOT_IN_POLICY } from '../../../shared/rules/scope';
import { aPolicy } from '../../support/fixtures/policy';
import { mailboxInput, sharedMailboxInput } from './inputs';

describe('default-audit-set-customised', () => {
  it('is a mailbox rule with its id', () => {
    expect(defaultAuditSetCustomised).toMatchObject({ id: 'default-audit-set-customised', target: 'mailbox' });
  });

  it('is compliant while all three logon types are Microsoft-managed', () => {
    expect(defaultAuditSetCustomised.evaluate(mailboxInput())).toEqual({ status: 'compliant' });
  });

  it('reports each customised logon type with the same expected/actual, whatever the others are', () => {
    expect(defaultAuditSetCustomised.evaluate(mailboxInput({ mailbox: { defaultAuditSet: ['Admin'] } }))).toEqual({
      status: 'non-compliant',
      violations: [
        { logonType: 'Owner', expected: MANAGED, actual: CUSTOMISED },
        { logonType: 'Delegate', expected: MANAGED, actual: CUSTOMISED },
      ],
    });
    expect(MANAGED).toBe('Microsoft-managed (in DefaultAuditSet)');
    expect(CUSTOMISED).toBe('customised (not in DefaultAuditSet)');
  });

  it('reports all three when DefaultAuditSet is blank', () => {
    const outcome = defaultAuditSetCustomised.evaluate(mailboxInput({ mailbox: { defaultAuditSet: [] } }));
    expect(outcome.status === 'non-compliant' && outcome.violations.map((v) => v.logonType)).toEqual(['Owner', 'Delegate', 'Admin']);
  });

  it('checks unlicensed shared mailboxes too', () => {
    expect(defaultAuditSetCustomised.evaluate(sharedMailboxInput({ mailbox: { defaultAuditSet: ['Admin', 'Delegate'] } }))).toEqual({
      status: 'non-compliant',
      violations: [{ logonType: 'Owner', expected: MANAGED, actual: CUSTOMISED }],
    });
  });

  it('is not applicable under the extended preset, which customises every logon type by design', () => {
    const input = mailboxInput({ policy: aPolicy({ requiredActions: { preset: 'extended' } }), mailbox: { defaultAuditSet: [] } });
    expect(defaultAuditSetCustomised.evaluate(input)).toEqual({ status: 'not-applicable', reason: expect.stringContaining('every logon type') });
  });

  it('skips a logon type that the policy customises with an additional action, where that action is required', () => {
    const policy = aPolicy({ requiredActions: { additional: { Owner: ['SearchQueryInitiated'] } } });
    // Licensed: SearchQueryInitiated is required, so Owner is customised by policy and not reported.
    expect(defaultAuditSetCustomised.evaluate(mailboxInput({ policy, mailbox: { defaultAuditSet: [] } }))).toEqual({
      status: 'non-compliant',
      violations: [
        { logonType: 'Delegate', expected: MANAGED, actual: CUSTOMISED },
        { logonType: 'Admin', expected: MANAGED, actual: CUSTOMISED },
      ],
    });
    // Unlicensed, default scope "all": SearchQueryInitiated is required there too, so Owner is skipped as well.
    const shared = defaultAuditSetCustomised.evaluate(sharedMailboxInput({ policy, mailbox: { defaultAuditSet: [] } }));
    expect(shared.status === 'non-compliant' && shared.violations.map((v) => v.logonType)).toEqual(['Delegate', 'Admin']);
    // Unlicensed under scope "advanced-auditing": the action is not required, so Owner should still be Microsoft-managed.
    const scoped = aPolicy({ mailItemsAccessedScope: 'advanced-auditing', requiredActions: { additional: { Owner: ['SearchQueryInitiated'] } } });
    const outcome = defaultAuditSetCustomised.evaluate(sharedMailboxInput({ policy: scoped, mailbox: { defaultAuditSet: [] } }));
    expect(outcome.status === 'non-compliant' && outcome.violations.map((v) => v.logonType)).toEqual(['Owner', 'Delegate', 'Admin']);
  });

  it('is not applicable to a mailbox type outside policy.mailboxTypes', () => {
    const input = mailboxInput({ mailbox: { recipientTypeDetails: 'GroupMailbox', defaultAuditSet: [] } });
    expect(defaultAuditSetCustomised.evaluate(input)).toBe(MAILBOX_TYPE_NOT_IN_POLICY);
  });
});
