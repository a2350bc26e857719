import { DEFAULT_POLICY, parsePolicy } from '../../../shared/config/policy';
import { RULE_IDS, type Finding } from '../../../shared/domain/finding';
import type { SubscribedSku } from '../../../shared/graph';
import { encodeQueueMessage, decodeQueueMessageText, parseQueueMessage, QueueMessageError, type RemediationMessage } from '../../../shared/queue';
import { directAssignmentFor, type LicenceUser } from '../../../shared/remediation/licence';
import { effectiveMode, splitByBlastRadius } from '../../../shared/remediation/modes';
import {
  CHANGE_KINDS_BY_RULE,
  idempotencyKeyOf,
  LICENCE_RULES,
  planRemediationFor,
  type AssignLicenceChange,
  type LicenceContext,
  type PlanningContext,
  type RemediationPlan,
} from '../../../shared/remediation/plan';
import { addsLicenceGatedAction, refusalHolds } from '../../../shared/remediation/refusal';
import { RULE_METADATA } from '../../../shared/rules/pack';
import { TENANT } from '../../support/fixtures/tenant';

const MAILBOX = '6f1c2a8e-1111-4222-8333-944455556666';
const E5 = '06ebc4ee-1bb5-47dd-8120-11324bc54e06';
const AUDIT_PLAN_ID = '2f442157-a11c-46b9-ae5b-6e39ff4e5849';
const TEAMS = '57ff2da0-773e-42df-b2af-ffb7a2317929';
const ANALYTICS = '34c0d7a0-a70f-4668-9238-47f9fc208882';
const UNNAMED = '0feaeb32-d00e-4d66-bd5a-43b5b83db82c';

const SKUS: SubscribedSku[] = [
  {
    skuId: E5,
    skuPartNumber: 'SPE_E5',
    servicePlans: [
      { servicePlanId: AUDIT_PLAN_ID, servicePlanName: 'M365_ADVANCED_AUDITING' },
      { servicePlanId: TEAMS, servicePlanName: 'TEAMS1' },
      { servicePlanId: ANALYTICS, servicePlanName: 'EXCHANGE_ANALYTICS' },
      { servicePlanId: UNNAMED, servicePlanName: '' },
    ],
  },
];

function licenceUser(assignments: Array<{ group: string | null; disabled: string[] }>): LicenceUser {
  return {
    id: MAILBOX,
    userPrincipalName: 'ada@contoso.example',
    usageLocation: 'GB',
    licenseAssignmentStates: assignments.map(({ group, disabled }) => ({ skuId: E5, disabledPlans: disabled, assignedByGroup: group, state: 'Active', error: 'None' })),
  };
}

function licenceContext(overrides: Partial<LicenceContext>): LicenceContext {
  return { skus: SKUS, reportedAfterReprocess: false, ...overrides };
}

/** After a reprocess and a scan that still saw the finding; two groups assign E5. */
const STEP_2: Partial<LicenceContext> = {
  reprocess: { appliedAt: new Date('2026-03-01T02:00:00Z') },
  reportedAfterReprocess: true,
  user: licenceUser([
    { group: 'g-1', disabled: [TEAMS, ANALYTICS] },
    { group: 'g-2', disabled: [UNNAMED, TEAMS] },
  ]),
};

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

function planOf(input: Partial<Finding> & { episode?: number }, policy = DEFAULT_POLICY, context: PlanningContext = {}): RemediationPlan {
  const outcome = planRemediationFor(finding(input), policy, context);
  if (outcome.kind !== 'plan') throw new Error(`expected a plan, got advice: ${outcome.advice.reason}`);
  return outcome.plan;
}

describe('the remediation planner', () => {
  it.each([
    [{ ruleId: 'mailbox-audit-disabled' }, `Set-Mailbox -Identity '${MAILBOX}' -AuditEnabled $true`],
    [{ ruleId: 'mailbox-audit-log-age-short', expected: '>= 180 days', actual: 90 }, `Set-Mailbox -Identity '${MAILBOX}' -AuditLogAgeLimit 180.00:00:00`],
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
    [
      { ruleId: 'audit-log-ingestion-disabled', objectType: 'organization', objectId: 'contoso.onmicrosoft.com', expected: true, actual: false },
      'Set-AdminAuditLogConfig -UnifiedAuditLogIngestionEnabled $true (takes effect within about an hour; audit search returns the new records some hours later)',
    ],
  ] as Array<[Partial<Finding>, string]>)('%j → %s', (input, text) => {
    expect(planOf(input).description).toBe(text);
  });

  it('adds actions with a GenericHashTable-style Add list and never replaces the list', () => {
    const plan = planOf({ ruleId: 'audit-actions-missing', logonType: 'Admin', expected: ['Send', 'Create'], actual: ['Custom'] });
    expect(plan.change).toEqual({ kind: 'set-mailbox', identity: MAILBOX, addActions: { Admin: ['Create', 'Send'] } });
  });

  it('uses the policy\'s minimum retention, as whole days', () => {
    const policy = parsePolicy({ minimumAuditLogAgeDays: 365 }, 'test');
    expect(planOf({ ruleId: 'mailbox-audit-log-age-short' }, policy).change).toEqual({ kind: 'set-mailbox', identity: MAILBOX, auditLogAgeLimitDays: 365 });
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
    for (const ruleId of ['default-audit-set-customised', 'advanced-auditing-plan-missing', 'audit-retention-too-short'] as const) {
      const outcome = planRemediationFor(finding({ ruleId, logonType: 'Owner' }), DEFAULT_POLICY);
      expect(outcome).toMatchObject({ kind: 'advice', advice: { ruleId, reason: expect.stringMatching(/^advice only/) } });
    }
    expect(planRemediationFor(finding({ error: 'TypeError: boom' }), DEFAULT_POLICY)).toMatchObject({ kind: 'advice' });
  });

  it('turns unified audit log ingestion on only (true), with approval by default', () => {
    const plan = planOf({ ruleId: 'audit-log-ingestion-disabled', objectType: 'organization', objectId: 'contoso.onmicrosoft.com', expected: true, actual: false });
    expect(plan.change).toEqual({ kind: 'set-admin-audit-log-config', unifiedAuditLogIngestionEnabled: true });
    expect(effectiveMode(DEFAULT_POLICY, 'audit-log-ingestion-disabled', plan.change.kind)).toBe('approval');
  });

  it('takes the change kinds and licence rules from the pack', () => {
    for (const id of RULE_IDS) expect(CHANGE_KINDS_BY_RULE[id]).toEqual(RULE_METADATA[id].changeKinds);
    expect([...LICENCE_RULES].sort()).toEqual(RULE_IDS.filter((id) => RULE_METADATA[id].licenceChange).sort());
    expect(CHANGE_KINDS_BY_RULE['mailbox-audit-log-age-short']).toEqual(['set-mailbox']);
    expect(CHANGE_KINDS_BY_RULE['licence-inherited-blocks-mia']).toEqual(['reprocess-licence', 'assign-licence']);
  });

  it('gives the licence rule advice only when it is planned without the licence context', () => {
    expect(planRemediationFor(finding({ ruleId: 'licence-inherited-blocks-mia' }), DEFAULT_POLICY)).toMatchObject({
      kind: 'advice',
      advice: { reason: expect.stringMatching(/needs the user's licences/) },
    });
  });

  it('fixes the group-licensing failure first by reprocessing, in policy.licenceReprocessMode (auto by default, no licence floor)', () => {
    const plan = planOf({ ruleId: 'licence-inherited-blocks-mia' }, DEFAULT_POLICY, { licence: licenceContext({}) });
    expect(plan.change).toEqual({ kind: 'reprocess-licence', userId: MAILBOX });
    expect(plan.description).toBe(`POST /v1.0/users/${MAILBOX}/reprocessLicenseAssignment (no body: re-runs the user's group licence assignments; changes no plan and takes no seat)`);
    expect(effectiveMode(DEFAULT_POLICY, 'licence-inherited-blocks-mia', 'reprocess-licence')).toBe('auto');
    expect(effectiveMode(parsePolicy({ licenceReprocessMode: 'approval' }, 'test'), 'licence-inherited-blocks-mia', 'reprocess-licence')).toBe('approval');
    // The rule in report mode changes nothing, reprocess included.
    expect(effectiveMode(parsePolicy({ modes: { 'licence-inherited-blocks-mia': 'report' } }, 'test'), 'licence-inherited-blocks-mia', 'reprocess-licence')).toBe('report');
  });

  it('waits for a scan after the reprocess before proposing a direct assignment', () => {
    const outcome = planRemediationFor(
      finding({ ruleId: 'licence-inherited-blocks-mia' }),
      DEFAULT_POLICY,
      { licence: licenceContext({ reprocess: { appliedAt: new Date('2026-03-01T02:00:00Z') }, reportedAfterReprocess: false }) },
    );
    expect(outcome).toMatchObject({ kind: 'advice', advice: { reason: expect.stringMatching(/re-run .* at 2026-03-01T02:00:00.000Z; waiting for a scan/) } });
  });

  it('proposes, after a reprocess and a later scan, a direct assignment that keeps every plan the groups disable disabled', () => {
    const plan = planOf({ ruleId: 'licence-inherited-blocks-mia' }, DEFAULT_POLICY, { licence: licenceContext(STEP_2) });
    // Two groups assign E5: one disables Teams and Exchange Analytics, the other Teams and an unnamed
    // plan. The groups' enabled plans union, so only what both disable is off: Teams.
    expect(plan.change).toEqual({
      kind: 'assign-licence',
      userId: MAILBOX,
      skuId: E5,
      skuPartNumber: 'SPE_E5',
      groupDisabledPlans: [TEAMS],
      disabledPlans: [TEAMS],
      planNames: { [TEAMS]: 'TEAMS1' },
    });
    const lines = plan.description.split('\n');
    expect(lines[0]).toBe(`POST /v1.0/users/${MAILBOX}/assignLicense {"addLicenses":[{"skuId":"${E5}","disabledPlans":["${TEAMS}"]}],"removeLicenses":[]}`);
    expect(plan.description).toMatch(/Assigns SPE_E5 \(06ebc4ee-.*\) directly/);
    expect(plan.description).toMatch(/Stays disabled, as the group has it: TEAMS1 \(57ff2da0-/);
    expect(plan.description).toMatch(/the direct licence stays after the user leaves the group/);
  });

  it('never proposes disabledPlans [] when a group disables something, and names plans it cannot name as unknown', () => {
    const oneGroup = licenceContext({ ...STEP_2, user: licenceUser([{ group: 'g-1', disabled: [UNNAMED, TEAMS, AUDIT_PLAN_ID] }, { group: 'g-2', disabled: [UNNAMED, TEAMS] }]) });
    const change = planOf({ ruleId: 'licence-inherited-blocks-mia' }, DEFAULT_POLICY, { licence: oneGroup }).change as AssignLicenceChange;
    expect(change.disabledPlans).toEqual([TEAMS, UNNAMED].sort());
    expect(change.disabledPlans).not.toContain(AUDIT_PLAN_ID);
    expect(planOf({ ruleId: 'licence-inherited-blocks-mia' }, DEFAULT_POLICY, { licence: oneGroup }).description).toMatch(new RegExp(`${UNNAMED} \\(name unknown\\)`));
  });

  it('makes a direct assignment an approval whatever the policy says', () => {
    const autoPolicy = parsePolicy({ modes: { 'licence-inherited-blocks-mia': 'auto' } }, 'test');
    expect(effectiveMode(autoPolicy, 'licence-inherited-blocks-mia', 'assign-licence')).toBe('approval');
    expect(effectiveMode(autoPolicy, 'licence-inherited-blocks-mia')).toBe('approval');
    expect(effectiveMode(DEFAULT_POLICY, 'mailbox-audit-disabled')).toBe('auto');
    expect(effectiveMode(DEFAULT_POLICY, 'audit-bypass-enabled')).toBe('approval');
  });

  it('gives advice instead of a direct assignment Graph would refuse or that would change nothing', () => {
    const noLocation = licenceContext({ ...STEP_2, user: { ...licenceUser([{ group: 'g-1', disabled: [TEAMS] }]), usageLocation: null } });
    expect(planRemediationFor(finding({ ruleId: 'licence-inherited-blocks-mia' }), DEFAULT_POLICY, { licence: noLocation })).toMatchObject({
      kind: 'advice',
      advice: { reason: expect.stringMatching(/no usage location/) },
    });
    const direct = licenceUser([{ group: null, disabled: [] }, { group: 'g-1', disabled: [TEAMS] }]);
    expect(directAssignmentFor(direct, SKUS)).toMatch(/already holds SPE_E5 .* directly/);
    const noUser = licenceContext({ ...STEP_2, user: undefined });
    expect(planRemediationFor(finding({ ruleId: 'licence-inherited-blocks-mia' }), DEFAULT_POLICY, { licence: noUser })).toMatchObject({ kind: 'advice' });
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
  const ASSIGN = planOf({ ruleId: 'licence-inherited-blocks-mia' }, DEFAULT_POLICY, { licence: licenceContext({ ...STEP_2, user: licenceUser([{ group: 'g-1', disabled: [TEAMS] }]) }) })
    .change as AssignLicenceChange;

  /** A message whose plan is internally consistent (keys recomputed), so only the change's schema can refuse it. */
  function withChange(ruleId: Finding['ruleId'], change: unknown) {
    const objectType = ruleId === 'audit-log-ingestion-disabled' ? 'organization' : 'mailbox';
    const key = `${ruleId}|${MAILBOX}`;
    return {
      ...message,
      plan: { ...plan, ruleId, objectType, findingKey: key, change, idempotencyKey: idempotencyKeyOf(key, 1, change as RemediationPlan['change']) },
    };
  }

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
    ['turns ingestion off', withChange('audit-log-ingestion-disabled', { kind: 'set-admin-audit-log-config', unifiedAuditLogIngestionEnabled: false }), /unifiedAuditLogIngestionEnabled/],
    ['reprocesses a user other than the finding\'s', withChange('licence-inherited-blocks-mia', { kind: 'reprocess-licence', userId: 'someone-else' }), /plan\.change: changes someone-else, not the finding's object/],
    ['reprocesses for a rule it does not fix', withChange('mailbox-audit-disabled', { kind: 'reprocess-licence', userId: MAILBOX }), /reprocess-licence does not fix mailbox-audit-disabled/],
    [
      'assigns a licence with disabledPlans [] although the group disables Teams',
      withChange('licence-inherited-blocks-mia', { ...ASSIGN, disabledPlans: [] }),
      /disabledPlans: would switch on 57ff2da0-773e-42df-b2af-ffb7a2317929, which the user's group leaves disabled/,
    ],
    [
      'assigns a licence with fewer disabled plans than the group (but claims the group disables fewer too)',
      withChange('licence-inherited-blocks-mia', { ...ASSIGN, groupDisabledPlans: [TEAMS, ANALYTICS], disabledPlans: [TEAMS] }),
      /would switch on 34c0d7a0/,
    ],
    ['assigns a licence with Advanced Auditing disabled', withChange('licence-inherited-blocks-mia', { ...ASSIGN, groupDisabledPlans: [TEAMS, AUDIT_PLAN_ID], disabledPlans: [TEAMS, AUDIT_PLAN_ID] }), /disables Advanced Auditing/],
    ['assigns a licence with a SKU that is not a GUID', withChange('licence-inherited-blocks-mia', { ...ASSIGN, skuId: 'SPE_E5' }), /plan\.change\.skuId/],
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

  it('accepts every new change kind the planner makes', () => {
    const assign = planOf({ ruleId: 'licence-inherited-blocks-mia' }, DEFAULT_POLICY, { licence: licenceContext(STEP_2) });
    const reprocess = planOf({ ruleId: 'licence-inherited-blocks-mia' }, DEFAULT_POLICY, { licence: licenceContext({}) });
    const ingestion = planOf({ ruleId: 'audit-log-ingestion-disabled', objectType: 'organization', objectId: 'contoso.onmicrosoft.com' });
    for (const item of [assign, reprocess, ingestion]) {
      const body = { ...message, plan: item };
      expect(parseQueueMessage(decodeQueueMessageText(encodeQueueMessage(body)), 'remediation')).toEqual(body);
    }
  });

  it('refuses text that is not base64 the way the host would', () => {
    expect(() => decodeQueueMessageText('{"version":1}')).toThrow(/not base64/);
  });
});

describe('a remembered licence refusal', () => {
  const at = '2026-03-01T02:00:00.000Z';

  it('holds until the capabilities Exchange shows for the mailbox change, and only for MailItemsAccessed or Send additions', () => {
    expect(refusalHolds(undefined)).toBe(false);
    expect(refusalHolds({ miaRefusedAt: at })).toBe(true);
    expect(refusalHolds({ miaRefusedAt: at, capabilitiesAtRefusal: ['BPOS_S_Enterprise'], capabilitiesNow: ['bpos_s_enterprise'] })).toBe(true);
    // Our own fixes of other settings do not count; a licence Exchange now applies does.
    expect(refusalHolds({ miaRefusedAt: at, capabilitiesAtRefusal: ['BPOS_S_Enterprise'], capabilitiesNow: ['BPOS_S_Enterprise', 'M365Auditing'] })).toBe(false);

    expect(addsLicenceGatedAction(planOf({ ruleId: 'mailitemsaccessed-missing', logonType: 'Owner', expected: ['MailItemsAccessed'] }).change)).toBe(true);
    expect(addsLicenceGatedAction(planOf({ ruleId: 'audit-actions-missing', logonType: 'Admin', expected: ['Send', 'Create'] }).change)).toBe(true);
    expect(addsLicenceGatedAction(planOf({ ruleId: 'audit-actions-missing', logonType: 'Admin', expected: ['Create'] }).change)).toBe(false);
    expect(addsLicenceGatedAction(planOf({}).change)).toBe(false);
  });
});
