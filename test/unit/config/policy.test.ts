import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_POLICY, loadPolicy, parsePolicy } from '../../../shared/config/policy';
import { RULE_IDS } from '../../../shared/domain/finding';
import { describeError, ValidationError } from '../../../shared/errors';
import { compilePolicy } from '../../../shared/rules/compiled-policy';
import { modeFor } from '../../../shared/rules/pack';

function policyFile(content: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'aw-policy-')), 'policy.json');
  writeFileSync(path, content);
  return path;
}

async function messageOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return describeError(error);
  }
  throw new Error('expected the policy to be rejected');
}

describe('audit policy', () => {
  it('defaults to 180 days of mailbox audit log, 365 of unified audit log, Microsoft default actions, user and shared mailboxes, MailItemsAccessed everywhere', async () => {
    const policy = await loadPolicy(undefined);
    expect(policy).toBe(DEFAULT_POLICY);
    expect(policy.minimumAuditLogAgeDays).toBe(180);
    expect(policy.minimumUnifiedAuditRetentionDays).toBe(365);
    expect(policy.auditRetentionPolicies).toEqual([]);
    expect(policy.requiredActions.preset).toBe('microsoft-default');
    expect(policy.mailboxTypes).toEqual(['UserMailbox', 'SharedMailbox']);
    expect(policy.mailItemsAccessedScope).toBe('all');
    expect(policy.licenceReprocessMode).toBe('auto');
    expect(policy.modes).toEqual({});
    expect(modeFor(policy, 'org-audit-disabled')).toBe('approval');
    expect(modeFor(policy, 'audit-log-ingestion-disabled')).toBe('approval');
    expect(modeFor(policy, 'mailbox-audit-log-age-short')).toBe('auto');
    expect(modeFor(policy, 'audit-retention-too-short')).toBe('report');
  });

  it('reads a policy file and lets modes override the defaults', async () => {
    const policy = await loadPolicy(
      policyFile(JSON.stringify({ minimumAuditLogAgeDays: 365, modes: { 'mailbox-audit-log-age-short': 'report', 'audit-log-ingestion-disabled': 'auto' } })),
    );
    expect(policy.minimumAuditLogAgeDays).toBe(365);
    expect(modeFor(policy, 'mailbox-audit-log-age-short')).toBe('report');
    expect(modeFor(policy, 'audit-log-ingestion-disabled')).toBe('auto');
  });

  describe("a rule's earlier id", () => {
    it('retention-too-short in modes reads as mailbox-audit-log-age-short', () => {
      const policy = parsePolicy({ modes: { 'retention-too-short': 'report' } }, 'test');
      expect(policy.modes).toEqual({ 'mailbox-audit-log-age-short': 'report' });
      expect(modeFor(policy, 'mailbox-audit-log-age-short')).toBe('report');
    });

    it('retention-too-short in exceptions reads as mailbox-audit-log-age-short', () => {
      const policy = parsePolicy(
        { exceptions: [{ object: 'ceo@contoso.com', rule: 'retention-too-short', reason: 'litigation hold', expires: '2027-01-31' }] },
        'test',
      );
      expect(policy.exceptions).toEqual([{ object: 'ceo@contoso.com', rule: 'mailbox-audit-log-age-short', reason: 'litigation hold', expires: '2027-01-31' }]);
      expect(compilePolicy(policy).exceptions.get('mailbox-audit-log-age-short')).toHaveLength(1);
    });

    it('is not confused with the new audit-retention-too-short rule', () => {
      const policy = parsePolicy({ modes: { 'retention-too-short': 'report', 'audit-retention-too-short': 'approval' } }, 'test');
      expect(policy.modes).toEqual({ 'mailbox-audit-log-age-short': 'report', 'audit-retention-too-short': 'approval' });
    });
  });

  describe('an unknown rule id', () => {
    function issuesOf(value: unknown): string[] {
      try {
        parsePolicy(value, 'test');
      } catch (error) {
        expect(error).toBeInstanceOf(ValidationError);
        return (error as ValidationError).issues;
      }
      throw new Error('expected the policy to be rejected');
    }

    it('in modes is rejected, naming it and listing the rules', () => {
      const issues = issuesOf({ modes: { 'no-such-rule': 'auto' } });
      expect(issues).toHaveLength(1);
      expect(issues[0]).toMatch(/^modes\.no-such-rule: "no-such-rule" is not a rule id \(rules: org-audit-disabled, /);
      for (const id of RULE_IDS) expect(issues[0]).toContain(id);
    });

    it('in exceptions is rejected, naming it', () => {
      const issues = issuesOf({ exceptions: [{ object: '*', rule: 'mailbox-audit-off', reason: 'r', expires: '2027-01-31' }] });
      expect(issues).toEqual([expect.stringMatching(/^exceptions\.0\.rule: "mailbox-audit-off" is not a rule id \(rules: /)]);
    });
  });

  describe('mailItemsAccessedScope', () => {
    it('accepts "all" and "advanced-auditing"', () => {
      expect(parsePolicy({ mailItemsAccessedScope: 'all' }, 'test').mailItemsAccessedScope).toBe('all');
      expect(parsePolicy({ mailItemsAccessedScope: 'advanced-auditing' }, 'test').mailItemsAccessedScope).toBe('advanced-auditing');
    });

    it('reads "licensed", its earlier name, as "advanced-auditing"', () => {
      expect(parsePolicy({ mailItemsAccessedScope: 'licensed' }, 'test').mailItemsAccessedScope).toBe('advanced-auditing');
    });

    it('rejects anything else', () => {
      expect(() => parsePolicy({ mailItemsAccessedScope: 'premium' }, 'test')).toThrow(ValidationError);
    });
  });

  describe('unified audit log retention', () => {
    it('takes a minimum and declared audit retention policies', () => {
      const policy = parsePolicy(
        {
          minimumUnifiedAuditRetentionDays: 730,
          auditRetentionPolicies: [
            { name: 'Executives', days: 3650, users: ['ceo@contoso.com', '6f1c2a7e-0b7d-4a43-9a35-2f0c3f6b9e11'] },
            { days: 365, users: 'all' },
          ],
        },
        'test',
      );
      expect(policy.minimumUnifiedAuditRetentionDays).toBe(730);
      expect(policy.auditRetentionPolicies).toEqual([
        { name: 'Executives', days: 3650, users: ['ceo@contoso.com', '6f1c2a7e-0b7d-4a43-9a35-2f0c3f6b9e11'] },
        { days: 365, users: 'all' },
      ]);
    });

    it('rejects a declared policy beyond 10 years, without users, or with unknown fields', () => {
      for (const declared of [
        { days: 3651, users: 'all' },
        { days: 365, users: [] },
        { days: 365 },
        { days: 365, users: 'all', priority: 1 },
      ]) {
        expect(() => parsePolicy({ auditRetentionPolicies: [declared] }, 'test')).toThrow(ValidationError);
      }
    });
  });

  it('takes the mode of the licence reprocess step', () => {
    expect(parsePolicy({ licenceReprocessMode: 'approval' }, 'test').licenceReprocessMode).toBe('approval');
    expect(() => parsePolicy({ licenceReprocessMode: 'sometimes' }, 'test')).toThrow(ValidationError);
  });

  it('names a missing file', async () => {
    expect(await messageOf(loadPolicy('/nonexistent/policy.json'))).toBe(
      'Cannot read the audit policy file /nonexistent/policy.json (AUDIT_POLICY_PATH): the file does not exist.',
    );
  });

  it('names a file that is not JSON', async () => {
    const path = policyFile('{ minimumAuditLogAgeDays: 180');
    expect(await messageOf(loadPolicy(path))).toMatch(new RegExp(`^The audit policy file ${path} is not valid JSON: `));
  });

  it('names each bad field with its path', async () => {
    const path = policyFile(
      JSON.stringify({
        minimumAuditLogAgeDays: 'ninety',
        modes: { 'retention-too-short': 'sometimes' },
        exceptions: [{ object: 'ceo@contoso.com', rule: 'no-such-rule', reason: '', expires: 'soon' }],
        surprise: true,
      }),
    );
    const message = await messageOf(loadPolicy(path));
    expect(message).toContain(`The audit policy in policy file ${path} is not valid.`);
    expect(message).toContain('minimumAuditLogAgeDays: ');
    expect(message).toContain('modes.retention-too-short: ');
    expect(message).toContain('exceptions.0.rule: ');
    expect(message).toContain('exceptions.0.reason: an exception needs a reason');
    expect(message).toContain('exceptions.0.expires: ');
    expect(message).toMatch(/Unrecognized key.*surprise/);
  });

  it('rejects an action the logon type does not accept, naming the valid ones', () => {
    expect(() => parsePolicy({ requiredActions: { additional: { Admin: ['MailboxLogin'] } } }, 'test')).toThrow(ValidationError);
    try {
      parsePolicy({ requiredActions: { additional: { Admin: ['MailboxLogin'] } } }, 'test');
    } catch (error) {
      expect((error as ValidationError).issues[0]).toMatch(
        /^requiredActions\.additional\.Admin\.0: "MailboxLogin" is not an audit action Exchange accepts for Admin \(valid: ApplyRecord, /,
      );
    }
  });

  it('rejects MessageBind, which Exchange Online refuses, pointing to MailItemsAccessed', () => {
    for (const spelling of ['MessageBind', 'messagebind', ' MessageBind ']) {
      try {
        parsePolicy({ requiredActions: { additional: { Admin: [spelling] } } }, 'test');
        throw new Error('expected MessageBind to be rejected');
      } catch (error) {
        expect(error).toBeInstanceOf(ValidationError);
        const issues = (error as ValidationError).issues;
        expect(issues).toHaveLength(1);
        expect(issues[0]).toMatch(/^requiredActions\.additional\.Admin\.0: ".*MessageBind.*": MessageBind is deprecated and Exchange Online refuses it; use MailItemsAccessed/i);
      }
    }
    // Through loadPolicy's message too, whatever the logon type.
    try {
      parsePolicy({ requiredActions: { additional: { Owner: ['MessageBind'] } } }, 'test');
      throw new Error('expected MessageBind to be rejected');
    } catch (error) {
      expect(describeError(error)).toMatch(/requiredActions\.additional\.Owner\.0: "MessageBind": .*use MailItemsAccessed/);
    }
  });

  it('accepts MailboxLogin for Owner, and the compiled policy notes that it is reportedly not logged', () => {
    const policy = parsePolicy({ requiredActions: { additional: { Owner: ['MailboxLogin'] } } }, 'test');
    expect(policy.requiredActions.additional.Owner).toEqual(['MailboxLogin']);
    const { notes } = compilePolicy(policy);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/MailboxLogin for Owner/);
    expect(notes[0]).toMatch(/reportedly does not log it/);
  });

  it('notes MailboxLogin in the extended preset too, and says nothing for the default policy', () => {
    expect(compilePolicy(parsePolicy({ requiredActions: { preset: 'extended' } }, 'test')).notes).toEqual([expect.stringMatching(/MailboxLogin/)]);
    expect(compilePolicy(DEFAULT_POLICY).notes).toEqual([]);
  });

  it('accepts a valid action in any letter case', () => {
    expect(parsePolicy({ requiredActions: { additional: { Owner: ['searchqueryinitiated'] } } }, 'test').requiredActions.additional.Owner).toEqual([
      'searchqueryinitiated',
    ]);
  });
});
