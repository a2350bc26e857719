import { RULE_IDS } from '../../shared/domain/finding';
import { BYPASS_RULES, MAILBOX_RULES, ORGANIZATION_RULES, RULES, RULES_BY_ID, RULE_METADATA } from '../../shared/rules/pack';

describe('rule pack', () => {
  it('has one rule and one metadata entry per rule id, each carrying its own id', () => {
    expect(RULES.map((rule) => rule.id)).toEqual([...RULE_IDS]);
    for (const id of RULE_IDS) {
      expect(RULES_BY_ID[id].id).toBe(id);
      expect(RULE_METADATA[id].id).toBe(id);
    }
  });

  it('splits the rules by target', () => {
    expect(ORGANIZATION_RULES.map((rule) => rule.id)).toEqual(['org-audit-disabled']);
    expect(BYPASS_RULES.map((rule) => rule.id)).toEqual(['audit-bypass-enabled']);
    expect(MAILBOX_RULES).toHaveLength(7);
    expect(MAILBOX_RULES.every((rule) => rule.target === 'mailbox')).toBe(true);
  });

  it('rates the rules by what they cost an investigation', () => {
    expect(Object.fromEntries(RULE_IDS.map((id) => [id, RULE_METADATA[id].severity]))).toEqual({
      'org-audit-disabled': 'critical',
      'audit-bypass-enabled': 'critical',
      'mailbox-audit-disabled': 'high',
      'mailitemsaccessed-missing': 'high',
      'licence-inherited-blocks-mia': 'high',
      'advanced-auditing-plan-missing': 'high',
      'retention-too-short': 'medium',
      'audit-actions-missing': 'medium',
      'default-audit-set-customised': 'low',
    });
  });

  it('says what to run by hand for every rule', () => {
    const commands: Record<string, RegExp> = {
      'org-audit-disabled': /Set-OrganizationConfig -AuditDisabled \$false/,
      'mailbox-audit-disabled': /Set-Mailbox -Identity <mailbox> -AuditEnabled \$true/,
      'mailitemsaccessed-missing': /-AuditOwner @\{Add='MailItemsAccessed'\}/,
      'audit-actions-missing': /-AuditOwner @\{Add=/,
      'retention-too-short': /-AuditLogAgeLimit <days>\.00:00:00/,
      'audit-bypass-enabled': /Set-MailboxAuditBypassAssociation -Identity <account> -AuditBypassEnabled \$false/,
      'default-audit-set-customised': /-DefaultAuditSet Admin,Delegate,Owner/,
      'advanced-auditing-plan-missing': /Set-MgUserLicense .*2f442157-a11c-46b9-ae5b-6e39ff4e5849|2f442157-a11c-46b9-ae5b-6e39ff4e5849[\s\S]*Set-MgUserLicense/,
      'licence-inherited-blocks-mia': /Set-MgGroupLicense/,
    };
    for (const id of RULE_IDS) {
      const { title, why, fix } = RULE_METADATA[id];
      expect(title.length).toBeGreaterThan(10);
      expect(why.length).toBeGreaterThan(80);
      expect(fix).toMatch(commands[id] as RegExp);
    }
  });
});
