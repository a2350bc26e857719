import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_POLICY, loadPolicy, modeFor, parsePolicy } from '../../shared/config/policy';
import { describeError, ValidationError } from '../../shared/errors';

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
  it('defaults to 180 days, Microsoft default actions, user and shared mailboxes, licensed MailItemsAccessed scope', async () => {
    const policy = await loadPolicy(undefined);
    expect(policy).toBe(DEFAULT_POLICY);
    expect(policy.minimumAuditLogAgeDays).toBe(180);
    expect(policy.requiredActions.preset).toBe('microsoft-default');
    expect(policy.mailboxTypes).toEqual(['UserMailbox', 'SharedMailbox']);
    expect(policy.mailItemsAccessedScope).toBe('licensed');
    expect(modeFor(policy, 'org-audit-disabled')).toBe('approval');
    expect(modeFor(policy, 'retention-too-short')).toBe('auto');
  });

  it('reads a policy file and lets modes override the defaults', async () => {
    const policy = await loadPolicy(policyFile(JSON.stringify({ minimumAuditLogAgeDays: 365, modes: { 'retention-too-short': 'report' } })));
    expect(policy.minimumAuditLogAgeDays).toBe(365);
    expect(modeFor(policy, 'retention-too-short')).toBe('report');
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

  it('accepts a valid action in any letter case', () => {
    expect(parsePolicy({ requiredActions: { additional: { Owner: ['searchqueryinitiated'] } } }, 'test').requiredActions.additional.Owner).toEqual([
      'searchqueryinitiated',
    ]);
  });
});
