import { mailItemsAccessedMissing } from '../../shared/rules/mailitemsaccessed-missing';
import { MAILBOX_TYPE_NOT_IN_POLICY, NO_LICENCE, PREMIUM_NOT_LICENSED } from '../../shared/rules/scope';
import { aPolicy, defaultActions, mailboxInput, sharedMailboxInput, without } from './fixtures';

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

  describe('scope "licensed" (the default)', () => {
    it('is not applicable to a mailbox without a licence', () => {
      expect(mailItemsAccessedMissing.evaluate(sharedMailboxInput())).toBe(NO_LICENCE);
    });

    it('is not applicable when the plan is in the SKU but not enabled', () => {
      const input = mailboxInput({ plan: { enabled: false, capabilityStatus: null, disabledInSkus: ['sku'] }, mailbox: { auditActions: { Owner: [], Delegate: [], Admin: [] } } });
      expect(mailItemsAccessedMissing.evaluate(input)).toBe(PREMIUM_NOT_LICENSED);
    });

    it('is not applicable when no SKU carries the plan', () => {
      const input = mailboxInput({ plan: { skuIncludesPlan: false, enabled: false, capabilityStatus: null, source: 'none' } });
      expect(mailItemsAccessedMissing.evaluate(input)).toBe(PREMIUM_NOT_LICENSED);
    });
  });

  describe('scope "all"', () => {
    const policy = aPolicy({ mailItemsAccessedScope: 'all' });

    it('requires MailItemsAccessed on an unlicensed shared mailbox', () => {
      const outcome = mailItemsAccessedMissing.evaluate(sharedMailboxInput({ policy }));
      expect(outcome).toEqual({
        status: 'non-compliant',
        violations: [
          { logonType: 'Owner', expected: ['MailItemsAccessed'], actual: without(OWNER_WITHOUT_MIA, 'Send') },
          { logonType: 'Delegate', expected: ['MailItemsAccessed'], actual: without(defaultActions('Delegate'), 'MailItemsAccessed') },
          { logonType: 'Admin', expected: ['MailItemsAccessed'], actual: without(defaultActions('Admin'), 'MailItemsAccessed', 'Send') },
        ],
      });
    });

    it('still skips mailbox types outside policy.mailboxTypes', () => {
      const input = sharedMailboxInput({ policy, mailbox: { recipientTypeDetails: 'GroupMailbox' } });
      expect(mailItemsAccessedMissing.evaluate(input)).toBe(MAILBOX_TYPE_NOT_IN_POLICY);
    });
  });

  it('is not applicable to a mailbox type outside policy.mailboxTypes, even when licensed', () => {
    const input = mailboxInput({ mailbox: { recipientTypeDetails: 'EquipmentMailbox', auditActions: { Owner: [], Delegate: [], Admin: [] } } });
    expect(mailItemsAccessedMissing.evaluate(input)).toBe(MAILBOX_TYPE_NOT_IN_POLICY);
  });
});
