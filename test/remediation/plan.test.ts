import { DEFAULT_POLICY, parsePolicy } from '../../shared/config/policy';
import type { Finding } from '../../shared/domain/finding';
import { encodeQueueMessage, decodeQueueMessageText, parseQueueMessage, QueueMessageError, type RemediationMessage } from '../../shared/queue';
import { effectiveMode, splitByBlastRadius } from '../../shared/remediation/modes';
import { idempotencyKeyOf, planRemediationFor, type RemediationPlan } from '../../shared/remediation/plan';

const MAILBOX = '6f1c2a8e-1111-4222-8333-944455556666';
const TENANT = '8f0e3f6a-1d2b-4c5d-9e8f-0a1b2c3d4e5f';

function finding(overrides: Partial<Finding> & { episode?: number }): Finding & { episode?: number } {
  return {
    ruleId: 'mailbox-audit-disabled',
    objectType: 'mailbox',
    objectId: MAILBOX,
    userPrincipalName: 'ada@contoso.example',
    severity: 'high',
    expected: true,
    actual: false,
    ...overrides,
  };
}

function planOf(input: Partial<Finding> & { episode?: number }, policy = DEFAULT_POLICY): RemediationPlan {
  const outcome = planRemediationFor(finding(input), policy);
  if (outcome.kind !== 'plan') throw new Error(`expected a plan, got advice: ${outcome.advice.reason}`);
  return outcome.plan;
}

describe('the remediation planner', () => {
  it.each([
    [{ ruleId: 'mailbox-audit-disabled' }, `Set-Mailbox -Identity '${MAILBOX}' -AuditEnabled $true`],
    [{ ruleId: 'retention-too-short', expected: '>= 180 days', actual: 90 }, `Set-Mailbox -Identity '${MAILBOX}' -AuditLogAgeLimit 180.00:00:00`],
    [
      { ruleId: 'mailitemsaccessed-missing', logonType: 'Owner', expected: ['MailItemsAccessed'], actual: ['Update'] },
      `Set-Mailbox -Identity '${MAILBOX}' -AuditOwner @{Add='MailItemsAccessed'}`,
    ],
    [
      { ruleId: 'audit-actions-missing', logonType: 'Delegate', expected: ['SendAs', 'HardDelete'], actual: ['Update'] },
      `Set-Mailbox -Identity '${MAILBOX}' -AuditDelegate @{Add='HardDelete','SendAs'}`,
    ],
    [
      { ruleId: 'audit-bypass-enabled', objectType: 'bypass-association', objectId: 'b-1', userPrincipalName: "svc o'neil", expected: false, actual: true },
      `Set-MailboxAuditBypassAssociation -Identity 'b-1' -AuditBypassEnabled $false`,
    ],
    [{ ruleId: 'org-audit-disabled', objectType: 'organization', objectId: 'contoso.onmicrosoft.com', expected: false, actual: true }, 'Set-OrganizationConfig -AuditDisabled $false'],
  ] as Array<[Partial<Finding>, string]>)('%j → %s', (input, text) => {
    expect(planOf(input).description).toBe(text);
  });

  it('adds actions with a GenericHashTable-style Add list and never replaces the list', () => {
    const plan = planOf({ ruleId: 'audit-actions-missing', logonType: 'Admin', expected: ['Send', 'Create'], actual: ['Custom'] });
    expect(plan.change).toEqual({ kind: 'set-mailbox', identity: MAILBOX, addActions: { Admin: ['Create', 'Send'] } });
  });

  it('uses the policy\'s minimum retention, as whole days', () => {
    const policy = parsePolicy({ minimumAuditLogAgeDays: 365 }, 'test');
    expect(planOf({ ruleId: 'retention-too-short' }, policy).change).toEqual({ kind: 'set-mailbox', identity: MAILBOX, auditLogAgeLimitDays: 365 });
  });

  it('restores the managed set when the policy prefers it, but not where the policy itself customises the logon type', () => {
    const prefer = parsePolicy({ preferDefaultAuditSet: true }, 'test');
    expect(planOf({ ruleId: 'mailitemsaccessed-missing', logonType: 'Owner', expected: ['MailItemsAccessed'] }, prefer).change).toEqual({
      kind: 'set-mailbox',
      identity: MAILBOX,
      defaultAuditSet: ['Owner'],
    });
    const extended = parsePolicy({ preferDefaultAuditSet: true, requiredActions: { additional: { Owner: ['SearchQueryInitiated'] } } }, 'test');
    expect(planOf({ ruleId: 'mailitemsaccessed-missing', logonType: 'Owner', expected: ['MailItemsAccessed'] }, extended).change).toEqual({
      kind: 'set-mailbox',
      identity: MAILBOX,
      addActions: { Owner: ['MailItemsAccessed'] },
    });
  });

  it('gives advice only for the report rules by default, and for findings whose rule failed', () => {
    for (const ruleId of ['default-audit-set-customised', 'advanced-auditing-plan-missing'] as const) {
      const outcome = planRemediationFor(finding({ ruleId, logonType: 'Owner' }), DEFAULT_POLICY);
      expect(outcome).toMatchObject({ kind: 'advice', advice: { ruleId, reason: expect.stringMatching(/^advice only/) } });
    }
    expect(planRemediationFor(finding({ error: 'TypeError: boom' }), DEFAULT_POLICY)).toMatchObject({ kind: 'advice' });
  });

  it('fixes the group-licensing failure with a direct licence, never automatically', () => {
    const plan = planOf({ ruleId: 'licence-inherited-blocks-mia' });
    expect(plan.change).toEqual({ kind: 'assign-licence', userId: MAILBOX });
    expect(plan.description).toMatch(/assignLicense .*usage location/);
    const autoPolicy = parsePolicy({ modes: { 'licence-inherited-blocks-mia': 'auto' } }, 'test');
    expect(effectiveMode(autoPolicy, 'licence-inherited-blocks-mia')).toBe('approval');
    expect(effectiveMode(DEFAULT_POLICY, 'mailbox-audit-disabled')).toBe('auto');
    expect(effectiveMode(DEFAULT_POLICY, 'audit-bypass-enabled')).toBe('approval');
  });

  it('keys a plan by its finding, episode and change', () => {
    const plan = planOf({});
    expect(plan.idempotencyKey).toBe(planOf({}).idempotencyKey);
    // The same drift coming back later (a new episode) is a new change, not a duplicate of the old one.
    expect(planOf({ episode: 2 }).idempotencyKey).not.toBe(plan.idempotencyKey);
    expect(idempotencyKeyOf(plan.findingKey, 1, { kind: 'set-mailbox', identity: MAILBOX, auditLogAgeLimitDays: 180 })).not.toBe(plan.idempotencyKey);
  });

  it('keeps the first `remaining` plans automatic and sends the rest for approval', () => {
    expect(splitByBlastRadius([1, 2, 3, 4], 3)).toEqual({ auto: [1, 2, 3], overflow: [4] });
    expect(splitByBlastRadius([1, 2], -5)).toEqual({ auto: [], overflow: [1, 2] });
  });
});

describe('remediation queue messages', () => {
  const plan = planOf({});
  const message: RemediationMessage = { version: 1, type: 'remediation', tenantId: TENANT, plan, requestedBy: 'policy:auto', enqueuedAt: '2026-01-01T02:00:00.000Z' };

  it('round-trips through base64 as the host decodes it', () => {
    expect(parseQueueMessage(decodeQueueMessageText(encodeQueueMessage(message)), 'remediation')).toEqual(message);
    expect(parseQueueMessage(message, 'remediation')).toEqual(message);
  });

  it.each([
    ['turns auditing off', { ...message, plan: { ...plan, change: { kind: 'set-mailbox', identity: MAILBOX, auditEnabled: false } } }, /plan\.change/],
    ['purges the audit log', { ...message, plan: { ...plan, change: { kind: 'set-mailbox', identity: MAILBOX, auditLogAgeLimitDays: 0 } } }, /auditLogAgeLimitDays/],
    ['was altered after it was keyed', { ...message, plan: { ...plan, objectId: 'someone-else', findingKey: 'mailbox-audit-disabled|someone-else' } }, /idempotencyKey: is not the hash/],
    ['pairs a rule with a change that does not fix it', { ...message, plan: { ...plan, ruleId: 'audit-bypass-enabled', findingKey: `audit-bypass-enabled|${MAILBOX}` } }, /does not fix audit-bypass-enabled/],
    ['carries an unknown field', { ...message, extra: 1 }, /Unrecognized key/],
  ])('refuses a message that %s, naming the path', (_name, body, issue) => {
    let error: unknown;
    try {
      parseQueueMessage(body, 'remediation');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(QueueMessageError);
    expect((error as QueueMessageError).issues.join('\n')).toMatch(issue);
  });

  it('refuses text that is not base64 the way the host would', () => {
    expect(() => decodeQueueMessageText('{"version":1}')).toThrow(/not base64/);
  });
});
