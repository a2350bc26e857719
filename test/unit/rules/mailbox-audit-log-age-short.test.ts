import { RULE_METADATA } from '../../../shared/rules/pack';
import { mailboxAuditLogAgeShort } from '../../../shared/rules/mailbox-audit-log-age-short';
import { MAILBOX_TYPE_NOT_IN_POLICY } from '../../../shared/rules/scope';
import { aPolicy } from '../../support/fixtures/policy';
import { mailboxInput, sharedMailboxInput } from './inputs';

describe('mailbox-audit-log-age-short (was retention-too-short)', () => {
  it('is a mailbox rule with its id', () => {
    expect(mailboxAuditLogAgeShort).toMatchObject({ id: 'mailbox-audit-log-age-short', target: 'mailbox' });
  });

  it('is low hygiene: AuditLogAgeLimit keeps only the mailbox audit log, not the evidence in audit search', () => {
    expect(RULE_METADATA['mailbox-audit-log-age-short']).toMatchObject({ severity: 'low', defaultMode: 'auto', coverage: 'hygiene' });
  });

  describe('compliant', () => {
    it('at exactly the policy minimum (180 days by default) and above it', () => {
      expect(mailboxAuditLogAgeShort.evaluate(mailboxInput({ mailbox: { auditLogAgeLimitDays: 180 } }))).toEqual({ status: 'compliant' });
      expect(mailboxAuditLogAgeShort.evaluate(mailboxInput({ mailbox: { auditLogAgeLimitDays: 3650 } }))).toEqual({ status: 'compliant' });
    });

    it('whatever the licence: an unlicensed shared mailbox is judged on AuditLogAgeLimit alone', () => {
      expect(mailboxAuditLogAgeShort.evaluate(sharedMailboxInput({ mailbox: { auditLogAgeLimitDays: 180 } }))).toEqual({ status: 'compliant' });
    });
  });

  describe('non-compliant', () => {
    it("reports Exchange's default of 90 days: expected '>= 180 days', actual 90", () => {
      expect(mailboxAuditLogAgeShort.evaluate(mailboxInput({ mailbox: { auditLogAgeLimitDays: 90 } }))).toEqual({
        status: 'non-compliant',
        violations: [{ expected: '>= 180 days', actual: 90 }],
      });
    });

    it('reports 0 days (which purges every record)', () => {
      expect(mailboxAuditLogAgeShort.evaluate(mailboxInput({ mailbox: { auditLogAgeLimitDays: 0 } }))).toEqual({
        status: 'non-compliant',
        violations: [{ expected: '>= 180 days', actual: 0 }],
      });
    });

    it("uses the policy's minimumAuditLogAgeDays, not the unified audit log minimum", () => {
      const policy = aPolicy({ minimumAuditLogAgeDays: 365, minimumUnifiedAuditRetentionDays: 30 });
      expect(mailboxAuditLogAgeShort.evaluate(mailboxInput({ policy, mailbox: { auditLogAgeLimitDays: 364 } }))).toEqual({
        status: 'non-compliant',
        violations: [{ expected: '>= 365 days', actual: 364 }],
      });
      expect(mailboxAuditLogAgeShort.evaluate(mailboxInput({ policy, mailbox: { auditLogAgeLimitDays: 365 } }))).toEqual({ status: 'compliant' });
    });

    it('is not silenced by a long unified audit retention policy: the two retentions are different things', () => {
      const policy = aPolicy({ auditRetentionPolicies: [{ name: 'Ten years', days: 3650, users: 'all' }] });
      expect(mailboxAuditLogAgeShort.evaluate(mailboxInput({ policy, mailbox: { auditLogAgeLimitDays: 90 } })).status).toBe('non-compliant');
    });
  });

  describe('not applicable', () => {
    it('to a mailbox type outside policy.mailboxTypes', () => {
      for (const recipientTypeDetails of ['GroupMailbox', 'RoomMailbox']) {
        const input = mailboxInput({ mailbox: { recipientTypeDetails, auditLogAgeLimitDays: 90 } });
        expect(mailboxAuditLogAgeShort.evaluate(input)).toBe(MAILBOX_TYPE_NOT_IN_POLICY);
      }
    });
  });
});
