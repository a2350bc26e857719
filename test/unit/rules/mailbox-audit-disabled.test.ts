import { evaluateMailbox } from '../../../shared/rules/evaluator';
import { IGNORED_WHILE_ORG_AUDITING_ON, mailboxAuditDisabled } from '../../../shared/rules/mailbox-audit-disabled';
import { RULE_METADATA } from '../../../shared/rules/pack';
import { MAILBOX_TYPE_NOT_IN_POLICY } from '../../../shared/rules/scope';
import { aPolicy } from '../../support/fixtures/policy';
import { mailboxInput, sharedMailboxInput } from './inputs';

const NOW = new Date('2026-06-15T12:00:00Z');
const WITH_RESOURCES = aPolicy({ mailboxTypes: ['UserMailbox', 'SharedMailbox', 'RoomMailbox', 'EquipmentMailbox'] });

describe('mailbox-audit-disabled', () => {
  it('is a mailbox rule with its id, low in the pack (Exchange ignores AuditEnabled on user and shared mailboxes)', () => {
    expect(mailboxAuditDisabled).toMatchObject({ id: 'mailbox-audit-disabled', target: 'mailbox' });
    expect(RULE_METADATA['mailbox-audit-disabled']).toMatchObject({ severity: 'low', defaultMode: 'auto' });
  });

  describe('compliant', () => {
    it('when AuditEnabled is True', () => {
      expect(mailboxAuditDisabled.evaluate(mailboxInput())).toEqual({ status: 'compliant' });
    });

    it('on a room or equipment mailbox in scope with AuditEnabled True', () => {
      for (const recipientTypeDetails of ['RoomMailbox', 'EquipmentMailbox']) {
        const input = mailboxInput({ policy: WITH_RESOURCES, plan: null, mailbox: { recipientTypeDetails, auditEnabled: true } });
        expect(mailboxAuditDisabled.evaluate(input)).toEqual({ status: 'compliant' });
      }
    });
  });

  describe('non-compliant', () => {
    it('on a user mailbox: low, with the note that Exchange ignores it while org auditing is on', () => {
      expect(mailboxAuditDisabled.evaluate(mailboxInput({ mailbox: { auditEnabled: false } }))).toEqual({
        status: 'non-compliant',
        violations: [{ expected: true, actual: IGNORED_WHILE_ORG_AUDITING_ON, severity: 'low' }],
      });
      expect(IGNORED_WHILE_ORG_AUDITING_ON).toMatch(/ignored/);
    });

    it('on an unlicensed shared mailbox the same way: the setting does not depend on a licence', () => {
      expect(mailboxAuditDisabled.evaluate(sharedMailboxInput({ mailbox: { auditEnabled: false } }))).toEqual({
        status: 'non-compliant',
        violations: [{ expected: true, actual: IGNORED_WHILE_ORG_AUDITING_ON, severity: 'low' }],
      });
    });

    it('on a room or equipment mailbox in scope: high, since on-by-default does not cover it and nothing is recorded', () => {
      for (const recipientTypeDetails of ['RoomMailbox', 'EquipmentMailbox']) {
        const input = mailboxInput({ policy: WITH_RESOURCES, plan: null, mailbox: { recipientTypeDetails, auditEnabled: false } });
        expect(mailboxAuditDisabled.evaluate(input)).toEqual({
          status: 'non-compliant',
          violations: [{ expected: true, actual: false, severity: 'high' }],
        });
      }
    });

    it('carries the severity into the finding: low for the user mailbox, high for the room', () => {
      const user = evaluateMailbox(mailboxInput({ policy: WITH_RESOURCES, mailbox: { auditEnabled: false } }), NOW).findings;
      const room = evaluateMailbox(
        mailboxInput({ policy: WITH_RESOURCES, plan: null, mailbox: { recipientTypeDetails: 'RoomMailbox', auditEnabled: false } }),
        NOW,
      ).findings;
      expect(user.find((f) => f.ruleId === 'mailbox-audit-disabled')?.severity).toBe('low');
      expect(room.find((f) => f.ruleId === 'mailbox-audit-disabled')?.severity).toBe('high');
    });
  });

  describe('not applicable', () => {
    it('to mailbox types outside policy.mailboxTypes (resource and group mailboxes by default)', () => {
      for (const recipientTypeDetails of ['RoomMailbox', 'EquipmentMailbox', 'GroupMailbox', 'DiscoveryMailbox']) {
        const input = mailboxInput({ mailbox: { recipientTypeDetails, auditEnabled: false } });
        expect(mailboxAuditDisabled.evaluate(input)).toBe(MAILBOX_TYPE_NOT_IN_POLICY);
      }
    });
  });
});
