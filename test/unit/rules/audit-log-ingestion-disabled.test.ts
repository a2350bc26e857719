import { auditLogIngestionDisabled } from '../../../shared/rules/audit-log-ingestion-disabled';
import { evaluateOrganization } from '../../../shared/rules/evaluator';
import { ORGANIZATION_RULES, RULE_METADATA } from '../../../shared/rules/pack';
import { ORG } from '../../support/fixtures/organization';
import { aPolicy } from '../../support/fixtures/policy';
import { organizationInput } from './inputs';

const NOW = new Date('2026-06-15T12:00:00Z');

describe('audit-log-ingestion-disabled', () => {
  it('is an organization rule with its id, critical and approved by default', () => {
    expect(auditLogIngestionDisabled).toMatchObject({ id: 'audit-log-ingestion-disabled', target: 'organization' });
    expect(ORGANIZATION_RULES.map((rule) => rule.id)).toContain('audit-log-ingestion-disabled');
    expect(RULE_METADATA['audit-log-ingestion-disabled']).toMatchObject({
      severity: 'critical',
      defaultMode: 'approval',
      changeKinds: ['set-admin-audit-log-config'],
      coverage: 'reads',
    });
  });

  describe('compliant', () => {
    it('when UnifiedAuditLogIngestionEnabled is True', () => {
      expect(auditLogIngestionDisabled.evaluate(organizationInput({ unifiedAuditLogIngestionEnabled: true }))).toEqual({ status: 'compliant' });
      expect(evaluateOrganization(organizationInput({ unifiedAuditLogIngestionEnabled: true }), NOW)).toEqual({ findings: [], excepted: [] });
    });

    it('whatever AuditDisabled says: the two switches are separate rules', () => {
      expect(auditLogIngestionDisabled.evaluate(organizationInput({ auditDisabled: true, unifiedAuditLogIngestionEnabled: true }))).toEqual({
        status: 'compliant',
      });
    });
  });

  describe('non-compliant', () => {
    it('when UnifiedAuditLogIngestionEnabled is False: expected true, actual false', () => {
      expect(auditLogIngestionDisabled.evaluate(organizationInput({ unifiedAuditLogIngestionEnabled: false }))).toEqual({
        status: 'non-compliant',
        violations: [{ expected: true, actual: false }],
      });
    });

    it('becomes a critical organization finding beside org-audit-disabled', () => {
      const { findings } = evaluateOrganization(organizationInput({ auditDisabled: true, unifiedAuditLogIngestionEnabled: false }), NOW);
      expect(findings).toEqual([
        expect.objectContaining({ ruleId: 'org-audit-disabled', severity: 'critical' }),
        {
          ruleId: 'audit-log-ingestion-disabled',
          objectType: 'organization',
          objectId: ORG,
          userPrincipalName: ORG,
          severity: 'critical',
          expected: true,
          actual: false,
        },
      ]);
    });

    it('honours an exception on the organization', () => {
      const policy = aPolicy({
        exceptions: [{ object: ORG, rule: 'audit-log-ingestion-disabled', reason: 'tenant being decommissioned', expires: '2027-01-31' }],
      });
      const result = evaluateOrganization(organizationInput({ unifiedAuditLogIngestionEnabled: false }, policy), NOW);
      expect(result.findings).toEqual([]);
      expect(result.excepted.map((item) => item.finding.ruleId)).toEqual(['audit-log-ingestion-disabled']);
    });
  });

  describe('unknown (Get-AdminAuditLogConfig could not be read)', () => {
    const unreadable = organizationInput({
      unifiedAuditLogIngestionEnabled: null,
      ingestionReadError: 'The term Get-AdminAuditLogConfig is not available to this role (Audit Logs)',
    });

    it('is never compliant: the rule throws rather than answer', () => {
      expect(() => auditLogIngestionDisabled.evaluate(unreadable)).toThrow(/Get-AdminAuditLogConfig/);
    });

    it('makes the evaluator report an error finding naming Get-AdminAuditLogConfig and the reason', () => {
      const { findings, excepted } = evaluateOrganization(unreadable, NOW);
      expect(excepted).toEqual([]);
      expect(findings).toEqual([
        {
          ruleId: 'audit-log-ingestion-disabled',
          objectType: 'organization',
          objectId: ORG,
          userPrincipalName: ORG,
          severity: 'critical',
          expected: null,
          actual: null,
          error: expect.stringContaining('Get-AdminAuditLogConfig'),
        },
      ]);
      expect(findings[0]?.error).toContain('not available to this role (Audit Logs)');
    });

    it('still reports an error finding when no reason was recorded', () => {
      const { findings } = evaluateOrganization(organizationInput({ unifiedAuditLogIngestionEnabled: null }), NOW);
      expect(findings).toEqual([expect.objectContaining({ ruleId: 'audit-log-ingestion-disabled', error: expect.stringContaining('Get-AdminAuditLogConfig') })]);
    });

    it('does not stop org-audit-disabled from being judged', () => {
      const { findings } = evaluateOrganization({ ...unreadable, organization: { ...unreadable.organization, auditDisabled: true } }, NOW);
      expect(findings.map((f) => [f.ruleId, f.error !== undefined])).toEqual([
        ['org-audit-disabled', false],
        ['audit-log-ingestion-disabled', true],
      ]);
    });
  });
});
