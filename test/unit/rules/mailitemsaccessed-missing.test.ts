import { mailItemsAccessedMissing } from '../../../shared/rules/mailitemsaccessed-missing';
import { MAILBOX_TYPE_NOT_IN_POLICY, NO_LICENCE, PREMIUM_NOT_LICENSED } from '../../../shared/rules/scope';
import { defaultActions, without } from '../../support/fixtures/mailbox';
import { aPolicy } from '../../support/fixtures/policy';
import { mailboxInput, sharedMailboxInput } from './inputs';

const OWNER_WITHOUT_MIA = [
  'ApplyRecord',
  'HardDelete',
  'MoveToDeletedItems',
  'Send',
  'SoftDelete',
  'Update',
  'UpdateCalendarDelegation',
  'UpdateFolderPermissions',
  'UpdateInboxRules',
];

/** An E3 user: Audit (Standard) only, no SKU carries the Audit (Premium) plan. */
const E3 = { skuIncludesPlan: false, enabled: false, capabilityStatus: null, source: 'none' as const };

/** Lists customised before 2024 (frozen without MailItemsAccessed). */
const CUSTOMISED_WITHOUT_MIA = {
  Owner: without(defaultActions('Owner'), 'MailItemsAccessed'),
  Delegate: without(defaultActions('Delegate'), 'MailItemsAccessed'),
  Admin: without(defaultActions('Admin'), 'MailItemsAccessed'),
};

describe('mailitemsaccessed-missing', () => {
  it('is a mailbox rule with its id', () => {
    expect(mailItemsAccessedMissing).toMatchObject({ id: 'mailitemsaccessed-missing', target: 'mailbox' });
  });

  it('is compliant when every logon type audits MailItemsAccessed', () => {
    expect(mailItemsAccessedMissing.evaluate(mailboxInput())).toEqual({ status: 'compliant' });
  });

  it('reports the logon type that lacks it: expected [MailItemsAccessed], actual the current list sorted', () => {
    const input = mailboxInput({
      mailbox: {
        auditActions: {
          Owner: without(defaultActions('Owner'), 'MailItemsAccessed').reverse(),
          Delegate: defaultActions('Delegate'),
          Admin: defaultActions('Admin'),
        },
      },
    });
    expect(mailItemsAccessedMissing.evaluate(input)).toEqual({
      status: 'non-compliant',
      violations: [{ logonType: 'Owner', expected: ['MailItemsAccessed'], actual: OWNER_WITHOUT_MIA }],
    });
  });

  it('reports one violation per logon type, in Exchange order Owner, Delegate, Admin', () => {
    const input = mailboxInput({ mailbox: { auditActions: { Owner: [], Delegate: ['Update'], Admin: ['SoftDelete', 'HardDelete'] } } });
    expect(mailItemsAccessedMissing.evaluate(input)).toEqual({
      status: 'non-compliant',
      violations: [
        { logonType: 'Owner', expected: ['MailItemsAccessed'], actual: [] },
        { logonType: 'Delegate', expected: ['MailItemsAccessed'], actual: ['Update'] },
        { logonType: 'Admin', expected: ['MailItemsAccessed'], actual: ['HardDelete', 'SoftDelete'] },
      ],
    });
  });

  it('does not reorder the snapshot it was given', () => {
    const admin = ['SoftDelete', 'HardDelete'];
    mailItemsAccessedMissing.evaluate(mailboxInput({ mailbox: { auditActions: { Owner: [], Delegate: [], Admin: admin } } }));
    expect(admin).toEqual(['SoftDelete', 'HardDelete']);
  });

  describe('the default policy (scope "all": Exchange audits MailItemsAccessed for Audit (Standard) since 2024)', () => {
    it('parses to scope "all"', () => {
      expect(aPolicy().mailItemsAccessedScope).toBe('all');
    });

    it('reports an E3 user (no SKU carries Audit (Premium)) whose customised lists lack MailItemsAccessed', () => {
      const input = mailboxInput({ plan: E3, mailbox: { auditActions: CUSTOMISED_WITHOUT_MIA, defaultAuditSet: [] } });
      expect(mailItemsAccessedMissing.evaluate(input)).toEqual({
        status: 'non-compliant',
        violations: [
          { logonType: 'Owner', expected: ['MailItemsAccessed'], actual: OWNER_WITHOUT_MIA },
          { logonType: 'Delegate', expected: ['MailItemsAccessed'], actual: without(defaultActions('Delegate'), 'MailItemsAccessed') },
          { logonType: 'Admin', expected: ['MailItemsAccessed'], actual: without(defaultActions('Admin'), 'MailItemsAccessed') },
        ],
      });
    });

    it('reports an unlicensed shared mailbox whose customised lists lack MailItemsAccessed', () => {
      const outcome = mailItemsAccessedMissing.evaluate(sharedMailboxInput({ mailbox: { defaultAuditSet: [] } }));
      expect(outcome).toEqual({
        status: 'non-compliant',
        violations: [
          { logonType: 'Owner', expected: ['MailItemsAccessed'], actual: without(OWNER_WITHOUT_MIA, 'Send') },
          { logonType: 'Delegate', expected: ['MailItemsAccessed'], actual: without(defaultActions('Delegate'), 'MailItemsAccessed') },
          { logonType: 'Admin', expected: ['MailItemsAccessed'], actual: without(defaultActions('Admin'), 'MailItemsAccessed', 'Send') },
        ],
      });
    });

    it('reports a user whose Audit (Premium) plan is disabled: the plan decides retention, not MailItemsAccessed', () => {
      const input = mailboxInput({ plan: { enabled: false, capabilityStatus: null, disabledInSkus: ['sku'] }, mailbox: { auditActions: { Owner: [], Delegate: [], Admin: [] } } });
      expect(mailItemsAccessedMissing.evaluate(input).status).toBe('non-compliant');
    });

    it('is compliant for an E3 user and a shared mailbox that keep MailItemsAccessed', () => {
      expect(mailItemsAccessedMissing.evaluate(mailboxInput({ plan: E3 }))).toEqual({ status: 'compliant' });
      const shared = sharedMailboxInput({ mailbox: { auditActions: { Owner: defaultActions('Owner'), Delegate: defaultActions('Delegate'), Admin: defaultActions('Admin') } } });
      expect(mailItemsAccessedMissing.evaluate(shared)).toEqual({ status: 'compliant' });
    });

    it('still skips mailbox types outside policy.mailboxTypes', () => {
      const input = sharedMailboxInput({ mailbox: { recipientTypeDetails: 'GroupMailbox' } });
      expect(mailItemsAccessedMissing.evaluate(input)).toBe(MAILBOX_TYPE_NOT_IN_POLICY);
    });
  });

  describe('scope "advanced-auditing" (the pre-2024 model)', () => {
    const policy = aPolicy({ mailItemsAccessedScope: 'advanced-auditing' });

    it('is the value "licensed" parses to', () => {
      expect(aPolicy({ mailItemsAccessedScope: 'licensed' }).mailItemsAccessedScope).toBe('advanced-auditing');
      const legacy = aPolicy({ mailItemsAccessedScope: 'licensed' });
      expect(mailItemsAccessedMissing.evaluate(sharedMailboxInput({ policy: legacy }))).toBe(NO_LICENCE);
    });

    it('is not applicable to the E3 user and the unlicensed shared mailbox', () => {
      const e3 = mailboxInput({ policy, plan: E3, mailbox: { auditActions: CUSTOMISED_WITHOUT_MIA, defaultAuditSet: [] } });
      expect(mailItemsAccessedMissing.evaluate(e3)).toBe(PREMIUM_NOT_LICENSED);
      expect(mailItemsAccessedMissing.evaluate(sharedMailboxInput({ policy }))).toBe(NO_LICENCE);
    });

    it('is not applicable when the plan is in the SKU but not enabled', () => {
      const input = mailboxInput({ policy, plan: { enabled: false, capabilityStatus: null, disabledInSkus: ['sku'] }, mailbox: { auditActions: { Owner: [], Delegate: [], Admin: [] } } });
      expect(mailItemsAccessedMissing.evaluate(input)).toBe(PREMIUM_NOT_LICENSED);
    });

    it('still reports a user with the plan enabled', () => {
      const input = mailboxInput({ policy, mailbox: { auditActions: CUSTOMISED_WITHOUT_MIA } });
      expect(mailItemsAccessedMissing.evaluate(input).status).toBe('non-compliant');
    });
  });

  it('is not applicable to a mailbox type outside policy.mailboxTypes, even when licensed', () => {
    const input = mailboxInput({ mailbox: { recipientTypeDetails: 'EquipmentMailbox', auditActions: { Owner: [], Delegate: [], Admin: [] } } });
    expect(mailItemsAccessedMissing.evaluate(input)).toBe(MAILBOX_TYPE_NOT_IN_POLICY);
  });
});
