import { orgAuditDisabled } from '../../../shared/rules/org-audit-disabled';
import { organizationInput } from './inputs';

describe('org-audit-disabled', () => {
  it('is an organization rule with its id', () => {
    expect(orgAuditDisabled).toMatchObject({ id: 'org-audit-disabled', target: 'organization' });
  });

  it('is compliant while the organization allows auditing (AuditDisabled = False)', () => {
    expect(orgAuditDisabled.evaluate(organizationInput({ auditDisabled: false }))).toEqual({ status: 'compliant' });
  });

  it('reports AuditDisabled = True: expected false, actual true', () => {
    expect(orgAuditDisabled.evaluate(organizationInput({ auditDisabled: true }))).toEqual({
      status: 'non-compliant',
      violations: [{ expected: false, actual: true }],
    });
  });
});
