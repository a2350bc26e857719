import { mailboxAuditDisabled } from '../../shared/rules/mailbox-audit-disabled';
import { MAILBOX_TYPE_NOT_IN_POLICY } from '../../shared/rules/scope';
import { aPolicy, mailboxInput, sharedMailboxInput } from './fixtures';

describe('mailbox-audit-disabled', () => {
  it('is a mailbox rule with its id', () => {
    expect(mailboxAuditDisabled).toMatchObject({ id: 'mailbox-audit-disabled', target: 'mailbox' });
  });

  it('is compliant when AuditEnabled is True', () => {
    expect(mailboxAuditDisabled.evaluate(mailboxInput())).toEqual({ status: 'compliant' });
  });

  it('reports AuditEnabled = False: expected true, actual false', () => {
    expect(mailboxAuditDisabled.evaluate(mailboxInput({ mailbox: { auditEnabled: false } }))).toEqual({
      status: 'non-compliant',
      violations: [{ expected: true, actual: false }],
    });
  });

  it('checks unlicensed shared mailboxes too: the setting does not depend on a licence', () => {
    expect(mailboxAuditDisabled.evaluate(sharedMailboxInput({ mailbox: { auditEnabled: false } }))).toEqual({
      status: 'non-compliant',
      violations: [{ expected: true, actual: false }],
    });
  });

  it('is not applicable to mailbox types outside policy.mailboxTypes (resource and group mailboxes by default)', () => {
    for (const recipientTypeDetails of ['RoomMailbox', 'EquipmentMailbox', 'GroupMailbox', 'DiscoveryMailbox']) {
      const input = mailboxInput({ mailbox: { recipientTypeDetails, auditEnabled: false } });
      expect(mailboxAuditDisabled.evaluate(input)).toBe(MAILBOX_TYPE_NOT_IN_POLICY);
    }
  });

  it('checks a room mailbox once the policy lists RoomMailbox', () => {
    const input = mailboxInput({
      mailbox: { recipientTypeDetails: 'RoomMailbox', auditEnabled: false },
      plan: null,
      policy: aPolicy({ mailboxTypes: ['UserMailbox', 'RoomMailbox'] }),
    });
    expect(mailboxAuditDisabled.evaluate(input).status).toBe('non-compliant');
  });
});
