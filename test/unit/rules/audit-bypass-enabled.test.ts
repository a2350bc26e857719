import { auditBypassEnabled } from '../../../shared/rules/audit-bypass-enabled';
import { bypassInput } from './inputs';

describe('audit-bypass-enabled', () => {
  it('is a bypass-association rule with its id', () => {
    expect(auditBypassEnabled).toMatchObject({ id: 'audit-bypass-enabled', target: 'bypass-association' });
  });

  it('is compliant when the account does not bypass auditing', () => {
    expect(auditBypassEnabled.evaluate(bypassInput({ auditBypassEnabled: false }))).toEqual({ status: 'compliant' });
  });

  it('reports AuditBypassEnabled = True: expected false, actual true', () => {
    expect(auditBypassEnabled.evaluate(bypassInput({ auditBypassEnabled: true }))).toEqual({
      status: 'non-compliant',
      violations: [{ expected: false, actual: true }],
    });
  });
});
