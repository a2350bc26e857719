import { CHANGE_KINDS, REMEDIATION_MODES, RULE_IDS, SEVERITIES, type RuleId } from '../../../shared/domain/finding';
import { BYPASS_RULES, MAILBOX_RULES, ORGANIZATION_RULES, RULES, RULES_BY_ID, RULE_METADATA, modeFor } from '../../../shared/rules/pack';
import { aPolicy } from '../../support/fixtures/policy';

/** DESIGN.md "Rules (the 2026 pack)": id → severity (the pack's usual one) and default mode. */
const DESIGN_TABLE: Record<RuleId, { severity: string; defaultMode: string }> = {
  'org-audit-disabled': { severity: 'critical', defaultMode: 'approval' },
  'audit-log-ingestion-disabled': { severity: 'critical', defaultMode: 'approval' },
  'audit-bypass-enabled': { severity: 'critical', defaultMode: 'approval' },
  'mailitemsaccessed-missing': { severity: 'high', defaultMode: 'auto' },
  'licence-inherited-blocks-mia': { severity: 'high', defaultMode: 'approval' },
  'audit-actions-missing': { severity: 'medium', defaultMode: 'auto' },
  'audit-retention-too-short': { severity: 'medium', defaultMode: 'report' },
  'advanced-auditing-plan-missing': { severity: 'medium', defaultMode: 'report' },
  // Low for user and shared mailboxes; the rule raises rooms and equipment in scope to high.
  'mailbox-audit-disabled': { severity: 'low', defaultMode: 'auto' },
  'mailbox-audit-log-age-short': { severity: 'low', defaultMode: 'auto' },
  'default-audit-set-customised': { severity: 'low', defaultMode: 'report' },
};

describe('rule pack', () => {
  it('has one rule and one metadata entry per rule id, each carrying its own id, in DESIGN.md order', () => {
    expect(RULES.map((rule) => rule.id)).toEqual([...RULE_IDS]);
    expect(Object.keys(DESIGN_TABLE)).toEqual([...RULE_IDS]);
    for (const id of RULE_IDS) {
      expect(RULES_BY_ID[id].id).toBe(id);
      expect(RULE_METADATA[id].id).toBe(id);
    }
  });

  it('no longer has retention-too-short', () => {
    expect(RULE_IDS).not.toContain('retention-too-short');
    expect(RULE_METADATA).not.toHaveProperty('retention-too-short');
  });

  it('splits the rules by target', () => {
    expect(ORGANIZATION_RULES.map((rule) => rule.id)).toEqual(['org-audit-disabled', 'audit-log-ingestion-disabled']);
    expect(BYPASS_RULES.map((rule) => rule.id)).toEqual(['audit-bypass-enabled']);
    expect(MAILBOX_RULES.map((rule) => rule.id)).toEqual([
      'mailitemsaccessed-missing',
      'licence-inherited-blocks-mia',
      'audit-actions-missing',
      'audit-retention-too-short',
      'advanced-auditing-plan-missing',
      'mailbox-audit-disabled',
      'mailbox-audit-log-age-short',
      'default-audit-set-customised',
    ]);
    expect(MAILBOX_RULES.every((rule) => rule.target === 'mailbox')).toBe(true);
  });

  it("rates the rules and picks their default modes as DESIGN.md's table does", () => {
    const actual = Object.fromEntries(RULE_IDS.map((id) => [id, { severity: RULE_METADATA[id].severity, defaultMode: RULE_METADATA[id].defaultMode }]));
    expect(actual).toEqual(DESIGN_TABLE);
  });

  it('gives every rule its full metadata: default mode, change kinds, licence facts, coverage effect and what its values hold', () => {
    for (const id of RULE_IDS) {
      const meta = RULE_METADATA[id];
      expect(SEVERITIES).toContain(meta.severity);
      expect(REMEDIATION_MODES).toContain(meta.defaultMode);
      expect(Array.isArray(meta.changeKinds)).toBe(true);
      for (const kind of meta.changeKinds) expect(CHANGE_KINDS).toContain(kind);
      expect(typeof meta.licenceDependent).toBe('boolean');
      expect(typeof meta.licenceChange).toBe('boolean');
      expect(['reads', 'hygiene', 'none']).toContain(meta.coverage);
      expect(meta.values.expected.length).toBeGreaterThan(0);
      expect(meta.values.actual.length).toBeGreaterThan(0);
    }
  });

  it('names the changes that may fix each rule (empty: advice only)', () => {
    expect(Object.fromEntries(RULE_IDS.map((id) => [id, [...RULE_METADATA[id].changeKinds]]))).toEqual({
      'org-audit-disabled': ['set-organization-config'],
      'audit-log-ingestion-disabled': ['set-admin-audit-log-config'],
      'audit-bypass-enabled': ['set-bypass-association'],
      'mailitemsaccessed-missing': ['set-mailbox'],
      'licence-inherited-blocks-mia': ['reprocess-licence', 'assign-licence'],
      'audit-actions-missing': ['set-mailbox'],
      'audit-retention-too-short': [],
      'advanced-auditing-plan-missing': [],
      'mailbox-audit-disabled': ['set-mailbox'],
      'mailbox-audit-log-age-short': ['set-mailbox'],
      'default-audit-set-customised': ['set-mailbox'],
    });
  });

  it('marks the rules whose fix changes licences, so no policy can make them automatic', () => {
    expect(RULE_IDS.filter((id) => RULE_METADATA[id].licenceChange)).toEqual(['licence-inherited-blocks-mia', 'advanced-auditing-plan-missing']);
  });

  it('says which rules depend on the licence read from Graph', () => {
    expect(RULE_IDS.filter((id) => !RULE_METADATA[id].licenceDependent)).toEqual([
      'org-audit-disabled',
      'audit-log-ingestion-disabled',
      'audit-bypass-enabled',
      'mailbox-audit-disabled',
      'mailbox-audit-log-age-short',
    ]);
  });

  it('says how each rule bears on the coverage verdict', () => {
    expect(Object.fromEntries(RULE_IDS.map((id) => [id, RULE_METADATA[id].coverage]))).toEqual({
      'org-audit-disabled': 'reads',
      'audit-log-ingestion-disabled': 'reads',
      'audit-bypass-enabled': 'none',
      'mailitemsaccessed-missing': 'reads',
      'licence-inherited-blocks-mia': 'reads',
      'audit-actions-missing': 'hygiene',
      'audit-retention-too-short': 'hygiene',
      'advanced-auditing-plan-missing': 'hygiene',
      'mailbox-audit-disabled': 'hygiene',
      'mailbox-audit-log-age-short': 'hygiene',
      'default-audit-set-customised': 'hygiene',
    });
  });

  it('says what to run by hand for every rule', () => {
    const commands: Record<RuleId, RegExp> = {
      'org-audit-disabled': /Set-OrganizationConfig -AuditDisabled \$false/,
      'audit-log-ingestion-disabled': /Set-AdminAuditLogConfig -UnifiedAuditLogIngestionEnabled \$true/,
      'audit-bypass-enabled': /Set-MailboxAuditBypassAssociation -Identity <account> -AuditBypassEnabled \$false/,
      'mailitemsaccessed-missing': /-AuditOwner @\{Add='MailItemsAccessed'\}/,
      'licence-inherited-blocks-mia': /reprocessLicenseAssignment[\s\S]*Set-MgUserLicense/,
      'audit-actions-missing': /-AuditOwner @\{Add=/,
      'audit-retention-too-short': /audit retention polic[\s\S]*policy\.auditRetentionPolicies/,
      'advanced-auditing-plan-missing': /Set-MgUserLicense .*2f442157-a11c-46b9-ae5b-6e39ff4e5849|2f442157-a11c-46b9-ae5b-6e39ff4e5849[\s\S]*Set-MgUserLicense/,
      'mailbox-audit-disabled': /Set-Mailbox -Identity <mailbox> -AuditEnabled \$true/,
      'mailbox-audit-log-age-short': /-AuditLogAgeLimit <days>\.00:00:00/,
      'default-audit-set-customised': /-DefaultAuditSet Admin,Delegate,Owner/,
    };
    for (const id of RULE_IDS) {
      const { title, why, fix } = RULE_METADATA[id];
      expect(title.length).toBeGreaterThan(10);
      expect(why.length).toBeGreaterThan(80);
      expect(fix).toMatch(commands[id]);
    }
  });

  it('says the mailbox audit log age is not the evidence retention, and the licence fix keeps the group\'s disabled plans', () => {
    expect(RULE_METADATA['mailbox-audit-log-age-short'].why).toMatch(/does not set how long audit search keeps/);
    expect(RULE_METADATA['licence-inherited-blocks-mia'].fix).toMatch(/keeping disabled every plan the group disables/);
  });
});

describe('modeFor', () => {
  it("is the pack's default mode when the policy names none", () => {
    const policy = aPolicy();
    for (const id of RULE_IDS) expect(modeFor(policy, id)).toBe(DESIGN_TABLE[id].defaultMode);
  });

  it("is the policy's mode where it names one, including under a rule's earlier id", () => {
    const policy = aPolicy({ modes: { 'audit-actions-missing': 'report', 'retention-too-short': 'approval' } });
    expect(modeFor(policy, 'audit-actions-missing')).toBe('report');
    expect(modeFor(policy, 'mailbox-audit-log-age-short')).toBe('approval');
    expect(modeFor(policy, 'mailitemsaccessed-missing')).toBe('auto');
  });
});
