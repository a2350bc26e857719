import { RULE_IDS, type Finding } from '../../../shared/domain/finding';
import {
  evaluateBypassAssociation,
  evaluateMailbox,
  evaluateOrganization,
  findException,
} from '../../../shared/rules/evaluator';
import { IGNORED_WHILE_ORG_AUDITING_ON } from '../../../shared/rules/mailbox-audit-disabled';
import { MAILBOX_RULES } from '../../../shared/rules/pack';
import type { MailboxRule } from '../../../shared/rules/types';
import { aBypassAssociation } from '../../support/fixtures/bypass';
import { defaultActions, without } from '../../support/fixtures/mailbox';
import { ORG } from '../../support/fixtures/organization';
import { aPolicy } from '../../support/fixtures/policy';
import { OBJECT_ID, UPN } from '../../support/fixtures/user';
import { bypassInput, mailboxInput, organizationInput, sharedMailboxInput } from './inputs';

const NOW = new Date('2026-06-15T12:00:00Z');

const keys = (findings: Finding[]) => findings.map((f) => (f.logonType ? `${f.ruleId}|${f.logonType}` : f.ruleId));

function exception(fields: Record<string, unknown>) {
  return { object: UPN, rule: 'mailbox-audit-log-age-short', reason: 'legal hold mailbox', expires: '2027-01-31', ...fields };
}

describe('evaluateMailbox', () => {
  it('returns nothing for a compliant mailbox', () => {
    expect(evaluateMailbox(mailboxInput(), NOW)).toEqual({ findings: [], excepted: [] });
  });

  it('turns a violation into a finding with the object, the severity from the pack and expected/actual', () => {
    const { findings } = evaluateMailbox(mailboxInput({ mailbox: { auditLogAgeLimitDays: 90 } }), NOW);
    expect(findings).toEqual([
      {
        ruleId: 'mailbox-audit-log-age-short',
        objectType: 'mailbox',
        objectId: OBJECT_ID,
        userPrincipalName: UPN,
        severity: 'low',
        expected: '>= 180 days',
        actual: 90,
      },
    ]);
    expect(findings[0]).not.toHaveProperty('logonType');
    expect(findings[0]).not.toHaveProperty('error');
  });

  it('emits one finding per logon type for the action rules', () => {
    const input = mailboxInput({
      mailbox: {
        auditActions: {
          Owner: without(defaultActions('Owner'), 'MailItemsAccessed'),
          Delegate: defaultActions('Delegate'),
          Admin: without(defaultActions('Admin'), 'MailItemsAccessed', 'UpdateInboxRules'),
        },
        defaultAuditSet: ['Delegate'],
      },
    });
    const { findings } = evaluateMailbox(input, NOW);
    expect(keys(findings)).toEqual([
      'mailitemsaccessed-missing|Owner',
      'mailitemsaccessed-missing|Admin',
      'audit-actions-missing|Admin',
      'default-audit-set-customised|Owner',
      'default-audit-set-customised|Admin',
    ]);
    expect(findings[1]).toMatchObject({
      ruleId: 'mailitemsaccessed-missing',
      logonType: 'Admin',
      severity: 'high',
      expected: ['MailItemsAccessed'],
      actual: without(defaultActions('Admin'), 'MailItemsAccessed', 'UpdateInboxRules'),
    });
    expect(findings[2]).toMatchObject({ logonType: 'Admin', severity: 'medium', expected: ['UpdateInboxRules'] });
    expect(findings[3]).toMatchObject({ severity: 'low' });
  });

  describe("a violation's severity", () => {
    it("overrides the pack's: AuditEnabled False is low on a user mailbox and high on a room mailbox in scope", () => {
      const policy = aPolicy({ mailboxTypes: ['UserMailbox', 'SharedMailbox', 'RoomMailbox'] });
      const user = evaluateMailbox(mailboxInput({ policy, mailbox: { auditEnabled: false } }), NOW).findings;
      expect(user).toEqual([expect.objectContaining({ ruleId: 'mailbox-audit-disabled', severity: 'low', expected: true, actual: IGNORED_WHILE_ORG_AUDITING_ON })]);
      const room = evaluateMailbox(mailboxInput({ policy, plan: null, mailbox: { recipientTypeDetails: 'RoomMailbox', auditEnabled: false } }), NOW).findings;
      expect(room.filter((f) => f.ruleId === 'mailbox-audit-disabled')).toEqual([
        expect.objectContaining({ severity: 'high', expected: true, actual: false }),
      ]);
    });
  });

  describe('a rule that throws', () => {
    const broken: MailboxRule = {
      id: 'mailbox-audit-log-age-short',
      target: 'mailbox',
      evaluate: () => {
        throw new RangeError('AuditLogAgeLimit out of range');
      },
    };

    it('becomes an error finding and the other rules still run', () => {
      const rules = [broken, ...MAILBOX_RULES.filter((rule) => rule.id !== 'mailbox-audit-log-age-short')];
      const { findings } = evaluateMailbox(mailboxInput({ mailbox: { auditEnabled: false } }), NOW, rules);
      expect(findings).toEqual([
        {
          ruleId: 'mailbox-audit-log-age-short',
          objectType: 'mailbox',
          objectId: OBJECT_ID,
          userPrincipalName: UPN,
          severity: 'low',
          expected: null,
          actual: null,
          error: 'RangeError: AuditLogAgeLimit out of range',
        },
        expect.objectContaining({ ruleId: 'mailbox-audit-disabled', severity: 'low', expected: true, actual: IGNORED_WHILE_ORG_AUDITING_ON }),
      ]);
    });

    it('reports a thrown non-Error value too', () => {
      const odd: MailboxRule = { id: 'mailbox-audit-disabled', target: 'mailbox', evaluate: () => { throw 'nope'; } };
      const { findings } = evaluateMailbox(mailboxInput(), NOW, [odd]);
      expect(findings).toEqual([expect.objectContaining({ ruleId: 'mailbox-audit-disabled', error: 'rule threw nope' })]);
    });

    it('isolates a malformed snapshot to the rules that trip over it', () => {
      const input = mailboxInput({ mailbox: { auditEnabled: false } });
      delete (input.mailbox.auditActions as Partial<typeof input.mailbox.auditActions>).Delegate;
      const { findings } = evaluateMailbox(input, NOW);
      expect(findings.map((f) => [f.ruleId, f.error !== undefined])).toEqual([
        ['mailitemsaccessed-missing', true],
        ['audit-actions-missing', true],
        ['mailbox-audit-disabled', false],
      ]);
      expect(findings[0]?.error).toMatch(/^TypeError: /);
    });

    it('treats non-compliant without violations as a rule error, not as silence', () => {
      const empty: MailboxRule = { id: 'mailbox-audit-disabled', target: 'mailbox', evaluate: () => ({ status: 'non-compliant', violations: [] }) };
      const { findings } = evaluateMailbox(mailboxInput(), NOW, [empty]);
      expect(findings).toEqual([expect.objectContaining({ ruleId: 'mailbox-audit-disabled', error: expect.stringContaining('without a violation') })]);
    });
  });

  describe('policy exceptions', () => {
    const drifted = { auditLogAgeLimitDays: 90, auditEnabled: false };

    it('moves an excepted finding out of findings, with the exception that covers it', () => {
      const policy = aPolicy({ exceptions: [exception({ object: 'Adele.Vance@CONTOSO.onmicrosoft.com' })] });
      const result = evaluateMailbox(mailboxInput({ policy, mailbox: drifted }), NOW);
      expect(keys(result.findings)).toEqual(['mailbox-audit-disabled']);
      expect(result.excepted).toEqual([
        {
          finding: expect.objectContaining({ ruleId: 'mailbox-audit-log-age-short', objectId: OBJECT_ID, expected: '>= 180 days', actual: 90 }),
          exception: policy.exceptions[0],
        },
      ]);
    });

    it('matches the object id (case-insensitively) and "*"', () => {
      for (const object of [OBJECT_ID.toUpperCase(), '*']) {
        const policy = aPolicy({ exceptions: [exception({ object })] });
        const result = evaluateMailbox(mailboxInput({ policy, mailbox: drifted }), NOW);
        expect(keys(result.excepted.map((e) => e.finding))).toEqual(['mailbox-audit-log-age-short']);
      }
    });

    it('does not match another object, another rule, or the primary SMTP address', () => {
      const policy = aPolicy({
        exceptions: [
          exception({ object: 'someone.else@contoso.onmicrosoft.com' }),
          exception({ rule: 'audit-actions-missing' }),
          exception({ object: 'adele.vance@contoso.com' }),
        ],
      });
      const result = evaluateMailbox(mailboxInput({ policy, mailbox: drifted }), NOW);
      expect(keys(result.findings)).toEqual(['mailbox-audit-disabled', 'mailbox-audit-log-age-short']);
      expect(result.excepted).toEqual([]);
    });

    it('no longer applies once expired', () => {
      const policy = aPolicy({ exceptions: [exception({ expires: '2026-06-15T11:59:59Z' })] });
      const result = evaluateMailbox(mailboxInput({ policy, mailbox: drifted }), NOW);
      expect(keys(result.findings)).toEqual(['mailbox-audit-disabled', 'mailbox-audit-log-age-short']);
      expect(result.excepted).toEqual([]);
    });

    it('reads a date-only expiry as the end of that day (UTC)', () => {
      const policy = aPolicy({ exceptions: [exception({ expires: '2026-06-15' })] });
      const input = mailboxInput({ policy, mailbox: drifted });
      expect(evaluateMailbox(input, new Date('2026-06-15T23:59:59.999Z')).excepted).toHaveLength(1);
      expect(evaluateMailbox(input, new Date('2026-06-16T00:00:00Z')).excepted).toHaveLength(0);
    });

    it('honours an offset in an expiry timestamp', () => {
      const policy = aPolicy({ exceptions: [exception({ expires: '2026-06-15T14:00:00+02:00' })] });
      const input = mailboxInput({ policy, mailbox: drifted });
      expect(evaluateMailbox(input, new Date('2026-06-15T11:59:00Z')).excepted).toHaveLength(1);
      expect(evaluateMailbox(input, new Date('2026-06-15T12:00:00Z')).excepted).toHaveLength(0);
    });

    it('uses the first active exception in policy order', () => {
      const policy = aPolicy({
        exceptions: [
          exception({ reason: 'expired', expires: '2020-01-01' }),
          exception({ reason: 'wildcard', object: '*' }),
          exception({ reason: 'by upn' }),
        ],
      });
      const result = evaluateMailbox(mailboxInput({ policy, mailbox: drifted }), NOW);
      expect(result.excepted.map((e) => e.exception.reason)).toEqual(['wildcard']);
    });

    it("applies an exception written under the rule's earlier id, retention-too-short", () => {
      const policy = aPolicy({ exceptions: [exception({ rule: 'retention-too-short' })] });
      const result = evaluateMailbox(mailboxInput({ policy, mailbox: drifted }), NOW);
      expect(keys(result.findings)).toEqual(['mailbox-audit-disabled']);
      expect(keys(result.excepted.map((e) => e.finding))).toEqual(['mailbox-audit-log-age-short']);
    });

    it('covers every logon-type finding of the rule', () => {
      const policy = aPolicy({ exceptions: [exception({ rule: 'default-audit-set-customised' })] });
      const result = evaluateMailbox(mailboxInput({ policy, mailbox: { defaultAuditSet: [] } }), NOW);
      expect(result.findings).toEqual([]);
      expect(keys(result.excepted.map((e) => e.finding))).toEqual([
        'default-audit-set-customised|Owner',
        'default-audit-set-customised|Delegate',
        'default-audit-set-customised|Admin',
      ]);
    });
  });

  describe('scope', () => {
    const broken = {
      auditEnabled: false,
      auditLogAgeLimitDays: 30,
      auditActions: { Owner: [], Delegate: [], Admin: [] },
      defaultAuditSet: [],
      persistedCapabilities: [],
    };

    it('finds nothing on mailbox types outside policy.mailboxTypes, however drifted', () => {
      for (const recipientTypeDetails of ['GroupMailbox', 'RoomMailbox', 'DiscoveryMailbox']) {
        const input = mailboxInput({ mailbox: { ...broken, recipientTypeDetails }, plan: { enabled: false, capabilityStatus: null } });
        expect(evaluateMailbox(input, NOW)).toEqual({ findings: [], excepted: [] });
      }
    });

    it('checks a room mailbox once the policy lists it: MailItemsAccessed too under the default scope, AuditEnabled False high', () => {
      const policy = aPolicy({ mailboxTypes: ['UserMailbox', 'RoomMailbox'] });
      const input = mailboxInput({ policy, plan: null, mailbox: { ...broken, recipientTypeDetails: 'RoomMailbox' } });
      const { findings } = evaluateMailbox(input, NOW);
      expect(keys(findings)).toEqual([
        'mailitemsaccessed-missing|Owner',
        'mailitemsaccessed-missing|Delegate',
        'mailitemsaccessed-missing|Admin',
        'audit-actions-missing|Owner',
        'audit-actions-missing|Delegate',
        'audit-actions-missing|Admin',
        'audit-retention-too-short',
        'mailbox-audit-disabled',
        'mailbox-audit-log-age-short',
        'default-audit-set-customised|Owner',
        'default-audit-set-customised|Delegate',
        'default-audit-set-customised|Admin',
      ]);
      expect(findings.find((f) => f.ruleId === 'mailbox-audit-disabled')).toMatchObject({ severity: 'high', actual: false });
    });

    it('leaves out the premium actions on an unlicensed room mailbox under scope "advanced-auditing"', () => {
      const policy = aPolicy({ mailboxTypes: ['UserMailbox', 'RoomMailbox'], mailItemsAccessedScope: 'advanced-auditing' });
      const input = mailboxInput({ policy, plan: null, mailbox: { ...broken, recipientTypeDetails: 'RoomMailbox' } });
      expect(keys(evaluateMailbox(input, NOW).findings)).toEqual([
        'audit-actions-missing|Owner',
        'audit-actions-missing|Delegate',
        'audit-actions-missing|Admin',
        'audit-retention-too-short',
        'mailbox-audit-disabled',
        'mailbox-audit-log-age-short',
        'default-audit-set-customised|Owner',
        'default-audit-set-customised|Delegate',
        'default-audit-set-customised|Admin',
      ]);
    });

    it('requires MailItemsAccessed and Send on unlicensed shared mailboxes under the default policy (scope "all")', () => {
      for (const policy of [aPolicy(), aPolicy({ mailItemsAccessedScope: 'all' })]) {
        const { findings } = evaluateMailbox(sharedMailboxInput({ policy }), NOW);
        expect(keys(findings)).toEqual([
          'mailitemsaccessed-missing|Owner',
          'mailitemsaccessed-missing|Delegate',
          'mailitemsaccessed-missing|Admin',
          'audit-actions-missing|Owner',
          'audit-actions-missing|Admin',
          'audit-retention-too-short',
        ]);
        expect(findings[3]).toMatchObject({ expected: ['Send'] });
        expect(findings[5]).toMatchObject({ severity: 'medium', expected: '>= 365 days', actual: '180 days (Audit (Standard))' });
      }
    });

    it('leaves unlicensed mailboxes without premium actions alone under scope "advanced-auditing" (or its earlier name "licensed")', () => {
      for (const mailItemsAccessedScope of ['advanced-auditing', 'licensed']) {
        const policy = aPolicy({ mailItemsAccessedScope });
        // Only the evidence's retention remains: a shared mailbox keeps its records 180 days.
        expect(keys(evaluateMailbox(sharedMailboxInput({ policy }), NOW).findings)).toEqual(['audit-retention-too-short']);
      }
    });
  });

  it('applies the extended preset and does not then complain that the logon types are customised', () => {
    const policy = aPolicy({ requiredActions: { preset: 'extended' } });
    const { findings } = evaluateMailbox(mailboxInput({ policy, mailbox: { defaultAuditSet: [] } }), NOW);
    expect(findings.map((f) => [f.ruleId, f.logonType, f.expected])).toEqual([
      ['audit-actions-missing', 'Owner', ['Create', 'MailboxLogin', 'Move']],
      ['audit-actions-missing', 'Delegate', ['Move']],
      ['audit-actions-missing', 'Admin', ['Move']],
    ]);
  });

  it('reports the licence rules beside the action rules', () => {
    const input = mailboxInput({
      plan: { source: 'group', viaGroups: ['g1'] },
      mailItemsAccessedRefused: true,
      mailbox: { auditActions: { Owner: without(defaultActions('Owner'), 'MailItemsAccessed'), Delegate: defaultActions('Delegate'), Admin: defaultActions('Admin') } },
    });
    expect(keys(evaluateMailbox(input, NOW).findings)).toEqual(['mailitemsaccessed-missing|Owner', 'licence-inherited-blocks-mia']);
  });
});

describe('evaluateOrganization', () => {
  it('returns nothing while the organization audits', () => {
    expect(evaluateOrganization(organizationInput(), NOW)).toEqual({ findings: [], excepted: [] });
  });

  it('reports AuditDisabled with the organization identity as object and name', () => {
    expect(evaluateOrganization(organizationInput({ auditDisabled: true }), NOW).findings).toEqual([
      {
        ruleId: 'org-audit-disabled',
        objectType: 'organization',
        objectId: ORG,
        userPrincipalName: ORG,
        severity: 'critical',
        expected: false,
        actual: true,
      },
    ]);
  });

  it('honours an exception on the organization identity', () => {
    const policy = aPolicy({ exceptions: [exception({ rule: 'org-audit-disabled', object: 'CONTOSO.onmicrosoft.com' })] });
    const result = evaluateOrganization(organizationInput({ auditDisabled: true }, policy), NOW);
    expect(result.findings).toEqual([]);
    expect(result.excepted).toHaveLength(1);
  });
});

describe('evaluateBypassAssociation', () => {
  const association = aBypassAssociation();

  it('returns nothing for an association that does not bypass', () => {
    expect(evaluateBypassAssociation(bypassInput(), NOW)).toEqual({ findings: [], excepted: [] });
  });

  it('reports a bypass with the association id and identity', () => {
    expect(evaluateBypassAssociation(bypassInput({ auditBypassEnabled: true }), NOW).findings).toEqual([
      {
        ruleId: 'audit-bypass-enabled',
        objectType: 'bypass-association',
        objectId: association.objectId,
        userPrincipalName: association.identity,
        severity: 'critical',
        expected: false,
        actual: true,
      },
    ]);
  });

  it('honours an exception on the identity or the association id', () => {
    for (const object of ['SVC-BACKUP', association.objectId]) {
      const policy = aPolicy({ exceptions: [exception({ rule: 'audit-bypass-enabled', object })] });
      const result = evaluateBypassAssociation(bypassInput({ auditBypassEnabled: true }, policy), NOW);
      expect(result.findings).toEqual([]);
      expect(result.excepted.map((e) => e.finding.ruleId)).toEqual(['audit-bypass-enabled']);
    }
  });
});

describe('findException', () => {
  it('answers undefined for a rule without exceptions', () => {
    const policy = aPolicy({ exceptions: [exception({})] });
    for (const ruleId of RULE_IDS.filter((id) => id !== 'mailbox-audit-log-age-short')) {
      expect(findException(policy, ruleId, { objectId: OBJECT_ID, userPrincipalName: UPN }, NOW)).toBeUndefined();
    }
    expect(findException(policy, 'mailbox-audit-log-age-short', { objectId: OBJECT_ID, userPrincipalName: UPN }, NOW)).toBe(policy.exceptions[0]);
  });
});
