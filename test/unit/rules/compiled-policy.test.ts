import { compilePolicy, exceptionExpiresAt, requiredActionsFor } from '../../../shared/rules/compiled-policy';
import { mailboxInScope, premiumActionsRequired } from '../../../shared/rules/scope';
import { defaultActions, without } from '../../support/fixtures/mailbox';
import { aPolicy } from '../../support/fixtures/policy';
import { mailboxInput, sharedMailboxInput } from './inputs';

describe('requiredActionsFor', () => {
  it("is Microsoft's default list, sorted, with the premium actions only when they are required", () => {
    const policy = aPolicy();
    expect(requiredActionsFor(policy, 'Owner', true)).toEqual(defaultActions('Owner'));
    expect(requiredActionsFor(policy, 'Owner', false)).toEqual(without(defaultActions('Owner'), 'MailItemsAccessed', 'Send'));
    expect(requiredActionsFor(policy, 'Delegate', false)).toEqual(without(defaultActions('Delegate'), 'MailItemsAccessed'));
  });

  it('is the extended preset plus additional actions, deduplicated', () => {
    const policy = aPolicy({ requiredActions: { preset: 'extended', additional: { Owner: ['SearchQueryInitiated', 'Move'] } } });
    expect(requiredActionsFor(policy, 'Owner', true)).toEqual([
      'Create',
      'HardDelete',
      'MailItemsAccessed',
      'MailboxLogin',
      'Move',
      'MoveToDeletedItems',
      'SearchQueryInitiated',
      'SoftDelete',
      'Update',
      'UpdateCalendarDelegation',
      'UpdateFolderPermissions',
      'UpdateInboxRules',
    ]);
    expect(requiredActionsFor(policy, 'Owner', false)).not.toContain('SearchQueryInitiated');
  });
});

describe('premiumActionsRequired', () => {
  it('is true on every in-scope mailbox under the default scope "all", whatever the licence', () => {
    expect(premiumActionsRequired(mailboxInput())).toBe(true);
    expect(premiumActionsRequired(mailboxInput({ plan: { enabled: false } }))).toBe(true);
    expect(premiumActionsRequired(sharedMailboxInput())).toBe(true);
    expect(premiumActionsRequired(sharedMailboxInput({ policy: aPolicy({ mailItemsAccessedScope: 'all' }) }))).toBe(true);
  });

  it('follows the Audit (Premium) plan under scope "advanced-auditing"', () => {
    const policy = aPolicy({ mailItemsAccessedScope: 'advanced-auditing' });
    expect(premiumActionsRequired(mailboxInput({ policy }))).toBe(true);
    expect(premiumActionsRequired(mailboxInput({ policy, plan: { enabled: false } }))).toBe(false);
    expect(premiumActionsRequired(sharedMailboxInput({ policy }))).toBe(false);
  });

  it('is false for mailbox types the policy does not check', () => {
    const policy = aPolicy({ mailItemsAccessedScope: 'all' });
    expect(premiumActionsRequired(mailboxInput({ policy, mailbox: { recipientTypeDetails: 'GroupMailbox' } }))).toBe(false);
    expect(mailboxInScope(policy, { recipientTypeDetails: 'GroupMailbox' })).toBe(false);
    expect(mailboxInScope(policy, { recipientTypeDetails: 'SharedMailbox' })).toBe(true);
  });
});

describe('compilePolicy', () => {
  it('builds the lookups once per policy object', () => {
    const policy = aPolicy();
    expect(compilePolicy(policy)).toBe(compilePolicy(policy));
    expect(compilePolicy(aPolicy())).not.toBe(compilePolicy(policy));
  });
});

describe('exceptionExpiresAt', () => {
  it('reads a date as the end of that day in UTC and a timestamp as written', () => {
    expect(exceptionExpiresAt('2027-01-31')).toBe(Date.parse('2027-02-01T00:00:00Z'));
    expect(exceptionExpiresAt('2027-01-31T08:00:00+01:00')).toBe(Date.parse('2027-01-31T07:00:00Z'));
  });
});
