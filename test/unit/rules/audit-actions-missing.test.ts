import { auditActionsMissing } from '../../../shared/rules/audit-actions-missing';
import { compilePolicy } from '../../../shared/rules/compiled-policy';
import { MAILBOX_TYPE_NOT_IN_POLICY } from '../../../shared/rules/scope';
import { defaultActions, without } from '../../support/fixtures/mailbox';
import { aPolicy } from '../../support/fixtures/policy';
import { mailboxInput, sharedMailboxInput } from './inputs';

describe('audit-actions-missing', () => {
  it('is a mailbox rule with its id', () => {
    expect(auditActionsMissing).toMatchObject({ id: 'audit-actions-missing', target: 'mailbox' });
  });

  it("is compliant with Microsoft's default lists under the default policy", () => {
    expect(auditActionsMissing.evaluate(mailboxInput())).toEqual({ status: 'compliant' });
  });

  it('reports missing actions sorted, leaving MailItemsAccessed to its own rule', () => {
    const owner = without(defaultActions('Owner'), 'UpdateInboxRules', 'MailItemsAccessed', 'Send');
    const input = mailboxInput({ mailbox: { auditActions: { Owner: owner, Delegate: defaultActions('Delegate'), Admin: defaultActions('Admin') } } });
    expect(auditActionsMissing.evaluate(input)).toEqual({
      status: 'non-compliant',
      violations: [
        {
          logonType: 'Owner',
          expected: ['Send', 'UpdateInboxRules'],
          actual: ['ApplyRecord', 'HardDelete', 'MoveToDeletedItems', 'SoftDelete', 'Update', 'UpdateCalendarDelegation', 'UpdateFolderPermissions'],
        },
      ],
    });
  });

  it('reports one violation per logon type', () => {
    const input = mailboxInput({
      mailbox: {
        auditActions: {
          Owner: without(defaultActions('Owner'), 'HardDelete'),
          Delegate: without(defaultActions('Delegate'), 'SendAs', 'SendOnBehalf'),
          Admin: without(defaultActions('Admin'), 'UpdateCalendarDelegation'),
        },
      },
    });
    const outcome = auditActionsMissing.evaluate(input);
    expect(outcome.status === 'non-compliant' && outcome.violations.map(({ logonType, expected }) => ({ logonType, expected }))).toEqual([
      { logonType: 'Owner', expected: ['HardDelete'] },
      { logonType: 'Delegate', expected: ['SendAs', 'SendOnBehalf'] },
      { logonType: 'Admin', expected: ['UpdateCalendarDelegation'] },
    ]);
  });

  it('reports every required action of an emptied logon type', () => {
    const input = mailboxInput({ mailbox: { auditActions: { Owner: defaultActions('Owner'), Delegate: defaultActions('Delegate'), Admin: [] } } });
    expect(auditActionsMissing.evaluate(input)).toEqual({
      status: 'non-compliant',
      violations: [{ logonType: 'Admin', expected: without(defaultActions('Admin'), 'MailItemsAccessed'), actual: [] }],
    });
  });

  describe('actions Audit (Premium) scoped before 2024 (Send, SearchQueryInitiated)', () => {
    const E3 = { skuIncludesPlan: false, enabled: false, capabilityStatus: null, source: 'none' as const };
    const withoutSend = {
      Owner: without(defaultActions('Owner'), 'Send'),
      Delegate: defaultActions('Delegate'),
      Admin: without(defaultActions('Admin'), 'Send'),
    };

    it('require Send on an E3 user under the default policy (scope "all")', () => {
      const outcome = auditActionsMissing.evaluate(mailboxInput({ plan: E3, mailbox: { auditActions: withoutSend } }));
      expect(outcome).toEqual({
        status: 'non-compliant',
        violations: [
          { logonType: 'Owner', expected: ['Send'], actual: without(defaultActions('Owner'), 'Send') },
          { logonType: 'Admin', expected: ['Send'], actual: without(defaultActions('Admin'), 'Send') },
        ],
      });
    });

    it('require Send on an unlicensed shared mailbox and on a user whose plan is disabled, by default', () => {
      for (const input of [
        sharedMailboxInput(),
        sharedMailboxInput({ policy: aPolicy({ mailItemsAccessedScope: 'all' }) }),
        mailboxInput({ plan: { enabled: false, disabledInSkus: ['sku'], capabilityStatus: null }, mailbox: { auditActions: withoutSend } }),
      ]) {
        const outcome = auditActionsMissing.evaluate(input);
        expect(outcome.status === 'non-compliant' && outcome.violations.map(({ logonType, expected }) => ({ logonType, expected }))).toEqual([
          { logonType: 'Owner', expected: ['Send'] },
          { logonType: 'Admin', expected: ['Send'] },
        ]);
      }
    });

    describe('under scope "advanced-auditing"', () => {
      const policy = aPolicy({ mailItemsAccessedScope: 'advanced-auditing' });

      it('are not required on an unlicensed mailbox, an E3 user, or a user whose plan is disabled', () => {
        expect(auditActionsMissing.evaluate(sharedMailboxInput({ policy }))).toEqual({ status: 'compliant' });
        expect(auditActionsMissing.evaluate(mailboxInput({ policy, plan: E3, mailbox: { auditActions: withoutSend } }))).toEqual({ status: 'compliant' });
        const disabled = mailboxInput({ policy, plan: { enabled: false, disabledInSkus: ['sku'], capabilityStatus: null }, mailbox: { auditActions: withoutSend } });
        expect(auditActionsMissing.evaluate(disabled)).toEqual({ status: 'compliant' });
      });

      it('are still required where the plan is enabled', () => {
        const outcome = auditActionsMissing.evaluate(mailboxInput({ policy, mailbox: { auditActions: withoutSend } }));
        expect(outcome.status).toBe('non-compliant');
      });

      it('include SearchQueryInitiated from requiredActions.additional only where the plan is enabled', () => {
        const scoped = aPolicy({ mailItemsAccessedScope: 'advanced-auditing', requiredActions: { additional: { Owner: ['SearchQueryInitiated'] } } });
        expect(auditActionsMissing.evaluate(mailboxInput({ policy: scoped }))).toEqual({
          status: 'non-compliant',
          violations: [{ logonType: 'Owner', expected: ['SearchQueryInitiated'], actual: defaultActions('Owner') }],
        });
        expect(auditActionsMissing.evaluate(sharedMailboxInput({ policy: scoped }))).toEqual({ status: 'compliant' });
      });
    });

    it('include SearchQueryInitiated from requiredActions.additional on every in-scope mailbox by default', () => {
      const policy = aPolicy({ requiredActions: { additional: { Owner: ['SearchQueryInitiated'] } } });
      expect(auditActionsMissing.evaluate(mailboxInput({ policy }))).toEqual({
        status: 'non-compliant',
        violations: [{ logonType: 'Owner', expected: ['SearchQueryInitiated'], actual: defaultActions('Owner') }],
      });
      const full = { Owner: defaultActions('Owner'), Delegate: defaultActions('Delegate'), Admin: defaultActions('Admin') };
      expect(auditActionsMissing.evaluate(sharedMailboxInput({ policy, mailbox: { auditActions: full } }))).toEqual({
        status: 'non-compliant',
        violations: [{ logonType: 'Owner', expected: ['SearchQueryInitiated'], actual: defaultActions('Owner') }],
      });
    });
  });

  it('requires the extended preset: Create, MailboxLogin and Move for Owner; Move for Delegate and Admin', () => {
    const outcome = auditActionsMissing.evaluate(mailboxInput({ policy: aPolicy({ requiredActions: { preset: 'extended' } }) }));
    expect(outcome).toEqual({
      status: 'non-compliant',
      violations: [
        { logonType: 'Owner', expected: ['Create', 'MailboxLogin', 'Move'], actual: defaultActions('Owner') },
        { logonType: 'Delegate', expected: ['Move'], actual: defaultActions('Delegate') },
        { logonType: 'Admin', expected: ['Move'], actual: defaultActions('Admin') },
      ],
    });
  });

  it('does not require default-set actions that the extended preset leaves out', () => {
    const policy = aPolicy({ requiredActions: { preset: 'extended' } });
    const owner = ['Update', 'MoveToDeletedItems', 'SoftDelete', 'HardDelete', 'UpdateFolderPermissions', 'UpdateInboxRules', 'UpdateCalendarDelegation', 'Create', 'MailboxLogin', 'Move', 'MailItemsAccessed'];
    const input = mailboxInput({
      policy,
      mailbox: {
        auditActions: {
          Owner: owner,
          Delegate: [...defaultActions('Delegate'), 'Move'],
          Admin: [...defaultActions('Admin'), 'Move'],
        },
      },
    });
    expect(auditActionsMissing.evaluate(input)).toEqual({ status: 'compliant' });
  });

  it("matches requiredActions.additional case-insensitively and ignores actions the logon type does not accept", () => {
    // The policy loader rejects MailboxLogin for Admin; a policy built in code can still carry it, and the rule must not trip on it.
    const policy = {
      ...aPolicy(),
      requiredActions: { preset: 'microsoft-default' as const, additional: { Delegate: ['folderbind'], Admin: ['MailboxLogin'] } },
    };
    expect(auditActionsMissing.evaluate(mailboxInput({ policy }))).toEqual({
      status: 'non-compliant',
      violations: [{ logonType: 'Delegate', expected: ['FolderBind'], actual: defaultActions('Delegate') }],
    });
    expect(compilePolicy(policy).ignoredAdditionalActions).toEqual({ Owner: [], Delegate: [], Admin: ['MailboxLogin'] });
  });

  it('is not applicable to a group mailbox, whose action set is fixed', () => {
    const input = mailboxInput({ mailbox: { recipientTypeDetails: 'GroupMailbox', auditActions: { Owner: [], Delegate: [], Admin: [] } } });
    expect(auditActionsMissing.evaluate(input)).toBe(MAILBOX_TYPE_NOT_IN_POLICY);
  });
});
