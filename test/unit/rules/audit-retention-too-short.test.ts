import { auditRetentionTooShort, unifiedAuditRetention } from '../../../shared/rules/audit-retention-too-short';
import { evaluateMailbox } from '../../../shared/rules/evaluator';
import { RULE_METADATA } from '../../../shared/rules/pack';
import { MAILBOX_TYPE_NOT_IN_POLICY } from '../../../shared/rules/scope';
import { aPolicy } from '../../support/fixtures/policy';
import { OBJECT_ID, UPN } from '../../support/fixtures/user';
import { mailboxInput, sharedMailboxInput } from './inputs';

const NOW = new Date('2026-06-15T12:00:00Z');
/** An E3 user: Audit (Standard) only. */
const E3 = { skuIncludesPlan: false, enabled: false, capabilityStatus: null, source: 'none' as const };
const PLAN_DISABLED = { enabled: false, disabledInSkus: ['sku'], capabilityStatus: null };
const STANDARD = { status: 'non-compliant', violations: [{ expected: '>= 365 days', actual: '180 days (Audit (Standard))' }] };

describe('audit-retention-too-short', () => {
  it('is a mailbox rule with its id: medium, report-only, nothing Exchange REST can change', () => {
    expect(auditRetentionTooShort).toMatchObject({ id: 'audit-retention-too-short', target: 'mailbox' });
    expect(RULE_METADATA['audit-retention-too-short']).toMatchObject({ severity: 'medium', defaultMode: 'report', changeKinds: [] });
  });

  it('defaults policy.minimumUnifiedAuditRetentionDays to 365', () => {
    expect(aPolicy().minimumUnifiedAuditRetentionDays).toBe(365);
  });

  describe('compliant', () => {
    it('for a user with the Audit (Premium) plan enabled: the default policy keeps a year', () => {
      expect(auditRetentionTooShort.evaluate(mailboxInput())).toEqual({ status: 'compliant' });
      expect(unifiedAuditRetention(aPolicy(), mailboxInput())).toEqual({ days: 365, source: 'Audit (Premium) default policy' });
    });

    it('for an E3 user once the policy asks for 180 days only', () => {
      const policy = aPolicy({ minimumUnifiedAuditRetentionDays: 180 });
      expect(auditRetentionTooShort.evaluate(mailboxInput({ policy, plan: E3 }))).toEqual({ status: 'compliant' });
      expect(auditRetentionTooShort.evaluate(sharedMailboxInput({ policy }))).toEqual({ status: 'compliant' });
    });

    it('for an E3 user a declared audit retention policy covers', () => {
      const policy = aPolicy({ auditRetentionPolicies: [{ name: 'Two years', days: 730, users: [UPN] }] });
      expect(auditRetentionTooShort.evaluate(mailboxInput({ policy, plan: E3 }))).toEqual({ status: 'compliant' });
    });
  });

  describe('non-compliant', () => {
    it('for an E3 user: 180 days, naming Audit (Standard) as the source', () => {
      expect(auditRetentionTooShort.evaluate(mailboxInput({ plan: E3 }))).toEqual(STANDARD);
    });

    it('for an unlicensed shared mailbox', () => {
      expect(auditRetentionTooShort.evaluate(sharedMailboxInput())).toEqual(STANDARD);
    });

    it('for a user whose Audit (Premium) plan is disabled: the shorter reading, never a false "kept long enough"', () => {
      expect(auditRetentionTooShort.evaluate(mailboxInput({ plan: PLAN_DISABLED }))).toEqual(STANDARD);
    });

    it("uses the policy's minimum in expected", () => {
      const policy = aPolicy({ minimumUnifiedAuditRetentionDays: 1095 });
      expect(auditRetentionTooShort.evaluate(mailboxInput({ policy }))).toEqual({
        status: 'non-compliant',
        violations: [{ expected: '>= 1095 days', actual: '365 days (Audit (Premium) default policy)' }],
      });
    });

    it('becomes a medium finding', () => {
      const { findings } = evaluateMailbox(mailboxInput({ plan: E3 }), NOW);
      expect(findings).toEqual([
        {
          ruleId: 'audit-retention-too-short',
          objectType: 'mailbox',
          objectId: OBJECT_ID,
          userPrincipalName: UPN,
          severity: 'medium',
          expected: '>= 365 days',
          actual: '180 days (Audit (Standard))',
        },
      ]);
    });
  });

  describe('declared audit retention policies (policy.auditRetentionPolicies)', () => {
    const other = { userPrincipalName: 'someone.else@contoso.onmicrosoft.com', objectId: '11111111-2222-3333-4444-555555555555' };

    it('cover a user by UPN (case-insensitively), naming the policy', () => {
      const policy = aPolicy({ auditRetentionPolicies: [{ name: 'Executives', days: 730, users: [UPN.toUpperCase()] }] });
      expect(unifiedAuditRetention(policy, mailboxInput({ plan: E3 }))).toEqual({ days: 730, source: 'audit retention policy "Executives"' });
      expect(unifiedAuditRetention(policy, mailboxInput({ plan: E3, mailbox: other }))).toEqual({ days: 180, source: 'Audit (Standard)' });
    });

    it('cover a user by object id', () => {
      const policy = aPolicy({ auditRetentionPolicies: [{ name: 'By id', days: 90, users: [OBJECT_ID] }] });
      expect(auditRetentionTooShort.evaluate(mailboxInput({ policy }))).toEqual({
        status: 'non-compliant',
        violations: [{ expected: '>= 365 days', actual: '90 days (audit retention policy "By id")' }],
      });
    });

    it('cover every user with "all", and outrank the Audit (Premium) default policy', () => {
      const policy = aPolicy({ auditRetentionPolicies: [{ name: 'Everyone', days: 180, users: 'all' }] });
      expect(auditRetentionTooShort.evaluate(mailboxInput({ policy }))).toEqual({
        status: 'non-compliant',
        violations: [{ expected: '>= 365 days', actual: '180 days (audit retention policy "Everyone")' }],
      });
      expect(unifiedAuditRetention(policy, sharedMailboxInput())).toEqual({ days: 180, source: 'audit retention policy "Everyone"' });
    });

    it('apply in list order: the first that covers the user wins', () => {
      const policy = aPolicy({
        auditRetentionPolicies: [
          { name: 'Executives', days: 3650, users: ['ceo@contoso.onmicrosoft.com', UPN] },
          { name: 'Everyone', days: 180, users: 'all' },
          { name: 'Never reached', days: 3650, users: [UPN] },
        ],
      });
      expect(unifiedAuditRetention(policy, mailboxInput({ plan: E3 }))).toEqual({ days: 3650, source: 'audit retention policy "Executives"' });
      expect(unifiedAuditRetention(policy, mailboxInput({ plan: E3, mailbox: other }))).toEqual({ days: 180, source: 'audit retention policy "Everyone"' });

      const reversed = aPolicy({ auditRetentionPolicies: [{ name: 'Everyone', days: 180, users: 'all' }, { name: 'Executives', days: 3650, users: [UPN] }] });
      expect(unifiedAuditRetention(reversed, mailboxInput({ plan: E3 }))).toEqual({ days: 180, source: 'audit retention policy "Everyone"' });
    });

    it('say where the days come from when the policy has no name', () => {
      const policy = aPolicy({ auditRetentionPolicies: [{ days: 90, users: 'all' }] });
      expect(unifiedAuditRetention(policy, mailboxInput())).toEqual({ days: 90, source: 'audit retention policy declared in the policy' });
    });

    it('are validated: days within 7..3650, users "all" or a non-empty list', () => {
      expect(() => aPolicy({ auditRetentionPolicies: [{ days: 5000, users: 'all' }] })).toThrow();
      expect(() => aPolicy({ auditRetentionPolicies: [{ days: 365, users: [] }] })).toThrow();
      expect(() => aPolicy({ auditRetentionPolicies: [{ days: 365, users: 'everyone' }] })).toThrow();
    });
  });

  describe('not applicable', () => {
    it('to a mailbox type outside policy.mailboxTypes', () => {
      for (const recipientTypeDetails of ['GroupMailbox', 'RoomMailbox', 'EquipmentMailbox']) {
        expect(auditRetentionTooShort.evaluate(mailboxInput({ plan: E3, mailbox: { recipientTypeDetails } }))).toBe(MAILBOX_TYPE_NOT_IN_POLICY);
      }
    });
  });
});
