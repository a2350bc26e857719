import { retentionTooShort } from '../../shared/rules/retention-too-short';
import { MAILBOX_TYPE_NOT_IN_POLICY } from '../../shared/rules/scope';
import { aPolicy, mailboxInput } from './fixtures';

describe('retention-too-short', () => {
  it('is a mailbox rule with its id', () => {
    expect(retentionTooShort).toMatchObject({ id: 'retention-too-short', target: 'mailbox' });
  });

  it('is compliant at exactly the policy minimum (180 days by default) and above it', () => {
    expect(retentionTooShort.evaluate(mailboxInput({ mailbox: { auditLogAgeLimitDays: 180 } }))).toEqual({ status: 'compliant' });
    expect(retentionTooShort.evaluate(mailboxInput({ mailbox: { auditLogAgeLimitDays: 3650 } }))).toEqual({ status: 'compliant' });
  });

  it("reports Exchange's default of 90 days: expected '>= 180 days', actual 90", () => {
    expect(retentionTooShort.evaluate(mailboxInput({ mailbox: { auditLogAgeLimitDays: 90 } }))).toEqual({
      status: 'non-compliant',
      violations: [{ expected: '>= 180 days', actual: 90 }],
    });
  });

  it('reports 0 days (which purges every record)', () => {
    expect(retentionTooShort.evaluate(mailboxInput({ mailbox: { auditLogAgeLimitDays: 0 } }))).toEqual({
      status: 'non-compliant',
      violations: [{ expected: '>= 180 days', actual: 0 }],
    });
  });

  it("uses the policy's minimumAuditLogAgeDays", () => {
    const policy = aPolicy({ minimumAuditLogAgeDays: 365 });
    expect(retentionTooShort.evaluate(mailboxInput({ policy, mailbox: { auditLogAgeLimitDays: 364 } }))).toEqual({
      status: 'non-compliant',
      violations: [{ expected: '>= 365 days', actual: 364 }],
    });
    expect(retentionTooShort.evaluate(mailboxInput({ policy, mailbox: { auditLogAgeLimitDays: 365 } }))).toEqual({ status: 'compliant' });
  });

  it('is not applicable to a mailbox type outside policy.mailboxTypes', () => {
    const input = mailboxInput({ mailbox: { recipientTypeDetails: 'GroupMailbox', auditLogAgeLimitDays: 90 } });
    expect(retentionTooShort.evaluate(input)).toBe(MAILBOX_TYPE_NOT_IN_POLICY);
  });
});
