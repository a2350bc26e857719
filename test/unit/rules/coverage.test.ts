import { LOGON_TYPES, type LogonType } from '../../../shared/domain/audit';
import type { Finding, RuleId } from '../../../shared/domain/finding';
import {
  COVERAGE_STATES,
  addToTally,
  coverageFigure,
  emptyCoverageTally,
  formatCoverageCounts,
  formatCoverageHeadline,
  formatShare,
  mailboxCoverage,
  recordedShare,
  worstOf,
  type CoverageInput,
  type CoverageState,
  type MailboxCoverage,
} from '../../../shared/rules/coverage';
import { evaluateMailbox, evaluateOrganization } from '../../../shared/rules/evaluator';
import { RULE_METADATA } from '../../../shared/rules/pack';
import { aFinding } from '../../support/fixtures/finding';
import { defaultActions, without } from '../../support/fixtures/mailbox';
import { ORG } from '../../support/fixtures/organization';
import { aPolicy } from '../../support/fixtures/policy';
import { uniformCoverage } from '../../support/fixtures/scan';
import { mailboxInput, type MailboxInputFields, organizationInput, sharedMailboxInput } from './inputs';

const NOW = new Date('2026-06-15T12:00:00Z');

/** The mailbox's findings, excepted ones included, as the scan hands them to the verdict. */
function mailboxFindings(fields: MailboxInputFields = {}): Finding[] {
  const { findings, excepted } = evaluateMailbox(mailboxInput(fields), NOW);
  return [...findings, ...excepted.map((item) => item.finding)];
}

function organizationFindings(fields: Parameters<typeof organizationInput>[0] = {}): Finding[] {
  const { findings, excepted } = evaluateOrganization(organizationInput(fields), NOW);
  return [...findings, ...excepted.map((item) => item.finding)];
}

function verdict(input: Partial<CoverageInput> = {}): MailboxCoverage {
  return mailboxCoverage({ mailboxFindings: [], organizationFindings: [], ownAccountBypassed: false, ...input });
}

/** The three logon types' states, Owner, Delegate, Admin. */
function states(coverage: MailboxCoverage): [CoverageState, CoverageState, CoverageState] {
  return [coverage.byLogonType.Owner.state, coverage.byLogonType.Delegate.state, coverage.byLogonType.Admin.state];
}

/** A finding made by hand, for rules whose inputs are awkward to build (the verdict only reads ruleId, logonType, severity, error). */
function findingOf(ruleId: RuleId, fields: Partial<Finding> = {}): Finding {
  return aFinding({ ruleId, logonType: undefined, severity: RULE_METADATA[ruleId].severity, expected: null, actual: null, ...fields });
}

describe('mailboxCoverage', () => {
  describe('recorded', () => {
    it('when nothing is found on the mailbox or the organization', () => {
      expect(verdict()).toEqual(uniformCoverage('recorded', []));
      expect(verdict({ mailboxFindings: mailboxFindings(), organizationFindings: organizationFindings() })).toEqual(uniformCoverage('recorded', []));
    });

    it('ignores an audit-bypass-enabled finding on another account: bypasses are judged per account', () => {
      const other = findingOf('audit-bypass-enabled', { objectType: 'bypass-association', objectId: 'svc', expected: false, actual: true });
      expect(verdict({ mailboxFindings: [other] })).toEqual(uniformCoverage('recorded', []));
    });
  });

  describe('not recorded, for every logon type', () => {
    it('org auditing off (org-audit-disabled)', () => {
      const coverage = verdict({ mailboxFindings: mailboxFindings(), organizationFindings: organizationFindings({ auditDisabled: true }) });
      expect(coverage).toEqual(uniformCoverage('not-recorded', ['org-audit-disabled']));
    });

    it('unified audit log ingestion off (audit-log-ingestion-disabled)', () => {
      const coverage = verdict({ organizationFindings: organizationFindings({ unifiedAuditLogIngestionEnabled: false }) });
      expect(coverage).toEqual(uniformCoverage('not-recorded', ['audit-log-ingestion-disabled']));
    });

    it('Exchange not applying the licence (licence-inherited-blocks-mia), although every list has MailItemsAccessed', () => {
      const findings = mailboxFindings({ plan: { source: 'group', viaGroups: ['g1'] }, mailbox: { persistedCapabilities: [] } });
      expect(findings.map((f) => f.ruleId)).toEqual(['licence-inherited-blocks-mia']);
      expect(verdict({ mailboxFindings: findings })).toEqual(uniformCoverage('not-recorded', ['licence-inherited-blocks-mia']));
    });

    it('a room mailbox in scope with AuditEnabled False (the high finding)', () => {
      // A declared retention policy keeps the room's records long enough, so AuditEnabled is the only finding.
      const policy = aPolicy({ mailboxTypes: ['UserMailbox', 'SharedMailbox', 'RoomMailbox'], auditRetentionPolicies: [{ days: 365, users: 'all' }] });
      const findings = mailboxFindings({ policy, plan: null, mailbox: { recipientTypeDetails: 'RoomMailbox', auditEnabled: false } });
      expect(findings).toEqual([expect.objectContaining({ ruleId: 'mailbox-audit-disabled', severity: 'high' })]);
      expect(verdict({ mailboxFindings: findings })).toEqual(uniformCoverage('not-recorded', ['mailbox-audit-disabled']));
    });
  });

  describe('not recorded, for one logon type', () => {
    it.each<LogonType>(['Owner', 'Delegate', 'Admin'])('MailItemsAccessed missing for %s leaves the other two recorded', (logonType) => {
      const lists = { Owner: defaultActions('Owner'), Delegate: defaultActions('Delegate'), Admin: defaultActions('Admin') };
      lists[logonType] = without(lists[logonType], 'MailItemsAccessed');
      const findings = mailboxFindings({ mailbox: { auditActions: lists, defaultAuditSet: LOGON_TYPES.filter((t) => t !== logonType) } });
      expect(findings.map((f) => `${f.ruleId}|${f.logonType}`)).toEqual([`mailitemsaccessed-missing|${logonType}`, `default-audit-set-customised|${logonType}`]);

      const coverage = verdict({ mailboxFindings: findings });
      expect(coverage.verdict).toBe('not-recorded');
      for (const type of ['Owner', 'Delegate', 'Admin'] as const) {
        expect(coverage.byLogonType[type]).toEqual(
          type === logonType
            ? // The lesser reason stays beside the one that decides the state; reasons are sorted.
              { state: 'not-recorded', reasons: ['default-audit-set-customised', 'mailitemsaccessed-missing'] }
            : { state: 'recorded', reasons: [] },
        );
      }
    });

    it("the mailbox's own account bypassing auditing: Owner only", () => {
      const coverage = verdict({ ownAccountBypassed: true });
      expect(coverage.verdict).toBe('not-recorded');
      expect(coverage.byLogonType).toEqual({
        Owner: { state: 'not-recorded', reasons: ['audit-bypass-enabled'] },
        Delegate: { state: 'recorded', reasons: [] },
        Admin: { state: 'recorded', reasons: [] },
      });
    });
  });

  describe('not proven recorded: a condition that could not be checked', () => {
    it('when Get-AdminAuditLogConfig could not be read: unknown is never recorded', () => {
      const findings = organizationFindings({ unifiedAuditLogIngestionEnabled: null, ingestionReadError: '403 Forbidden' });
      expect(findings).toEqual([expect.objectContaining({ ruleId: 'audit-log-ingestion-disabled', error: expect.stringContaining('403 Forbidden') })]);
      expect(verdict({ organizationFindings: findings })).toEqual(uniformCoverage('not-recorded', ['audit-log-ingestion-disabled']));
    });

    it('when a rule that decides recording failed on the mailbox (an error finding)', () => {
      const failed = findingOf('mailitemsaccessed-missing', { error: 'TypeError: boom' });
      expect(verdict({ mailboxFindings: [failed] })).toEqual(uniformCoverage('not-recorded', ['mailitemsaccessed-missing']));
    });

    it('while a hygiene rule that failed only puts the mailbox at risk', () => {
      const failed = findingOf('audit-retention-too-short', { error: 'TypeError: boom' });
      expect(verdict({ mailboxFindings: [failed] })).toEqual(uniformCoverage('at-risk', ['audit-retention-too-short']));
    });
  });

  describe('at risk', () => {
    it('AuditEnabled False on a user or shared mailbox (the low finding Exchange ignores)', () => {
      for (const findings of [
        mailboxFindings({ mailbox: { auditEnabled: false } }),
        (() => {
          const { findings: shared } = evaluateMailbox(
            sharedMailboxInput({
              policy: aPolicy({ auditRetentionPolicies: [{ days: 365, users: 'all' }] }),
              mailbox: { auditEnabled: false, auditActions: { Owner: defaultActions('Owner'), Delegate: defaultActions('Delegate'), Admin: defaultActions('Admin') } },
            }),
            NOW,
          );
          return shared;
        })(),
      ]) {
        expect(findings).toEqual([expect.objectContaining({ ruleId: 'mailbox-audit-disabled', severity: 'low' })]);
        expect(verdict({ mailboxFindings: findings })).toEqual(uniformCoverage('at-risk', ['mailbox-audit-disabled']));
      }
    });

    it('the unified audit log keeping records too briefly (audit-retention-too-short)', () => {
      const findings = mailboxFindings({ plan: { skuIncludesPlan: false, enabled: false, capabilityStatus: null, source: 'none' } });
      expect(findings.map((f) => f.ruleId)).toEqual(['audit-retention-too-short']);
      expect(verdict({ mailboxFindings: findings })).toEqual(uniformCoverage('at-risk', ['audit-retention-too-short']));
    });

    it('the Audit (Premium) plan switched off (advanced-auditing-plan-missing, beside the retention it costs)', () => {
      const findings = mailboxFindings({ plan: { enabled: false, disabledInSkus: ['sku'], capabilityStatus: null } });
      expect(findings.map((f) => f.ruleId)).toEqual(['audit-retention-too-short', 'advanced-auditing-plan-missing']);
      expect(verdict({ mailboxFindings: findings })).toEqual(uniformCoverage('at-risk', ['advanced-auditing-plan-missing', 'audit-retention-too-short']));
    });

    it('the mailbox audit log kept too briefly (mailbox-audit-log-age-short)', () => {
      const findings = mailboxFindings({ mailbox: { auditLogAgeLimitDays: 90 } });
      expect(findings.map((f) => f.ruleId)).toEqual(['mailbox-audit-log-age-short']);
      expect(verdict({ mailboxFindings: findings })).toEqual(uniformCoverage('at-risk', ['mailbox-audit-log-age-short']));
    });

    it('other actions missing for one logon type (audit-actions-missing): only that logon type', () => {
      const lists = { Owner: without(defaultActions('Owner'), 'UpdateInboxRules'), Delegate: defaultActions('Delegate'), Admin: defaultActions('Admin') };
      const findings = mailboxFindings({ mailbox: { auditActions: lists, defaultAuditSet: ['Delegate', 'Admin'] } });
      expect(findings.map((f) => `${f.ruleId}|${f.logonType}`)).toEqual(['audit-actions-missing|Owner', 'default-audit-set-customised|Owner']);
      const coverage = verdict({ mailboxFindings: findings });
      expect(coverage.verdict).toBe('at-risk');
      expect(states(coverage)).toEqual(['at-risk', 'recorded', 'recorded']);
      expect(coverage.byLogonType.Owner.reasons).toEqual(['audit-actions-missing', 'default-audit-set-customised']);
    });

    it('a list frozen outside Microsoft management (default-audit-set-customised)', () => {
      const findings = mailboxFindings({ mailbox: { defaultAuditSet: ['Owner'] } });
      expect(findings.map((f) => `${f.ruleId}|${f.logonType}`)).toEqual(['default-audit-set-customised|Delegate', 'default-audit-set-customised|Admin']);
      const coverage = verdict({ mailboxFindings: findings });
      expect(coverage.verdict).toBe('at-risk');
      expect(states(coverage)).toEqual(['recorded', 'at-risk', 'at-risk']);
    });

    it('each hygiene rule of the pack, alone, leaves the mailbox at risk', () => {
      const hygiene = (Object.keys(RULE_METADATA) as RuleId[]).filter((id) => RULE_METADATA[id].coverage === 'hygiene');
      expect(hygiene).toEqual([
        'audit-actions-missing',
        'audit-retention-too-short',
        'advanced-auditing-plan-missing',
        'mailbox-audit-disabled',
        'mailbox-audit-log-age-short',
        'default-audit-set-customised',
      ]);
      for (const ruleId of hygiene) {
        const finding = findingOf(ruleId, ruleId === 'mailbox-audit-disabled' ? { severity: 'low' } : {});
        expect(verdict({ mailboxFindings: [finding] })).toEqual(uniformCoverage('at-risk', [ruleId]));
      }
    });
  });

  describe('excepted findings', () => {
    it('still count: an exception does not make reads recorded', () => {
      const lists = { Owner: without(defaultActions('Owner'), 'MailItemsAccessed'), Delegate: defaultActions('Delegate'), Admin: defaultActions('Admin') };
      const policy = aPolicy({
        exceptions: [
          { object: '*', rule: 'mailitemsaccessed-missing', reason: 'pilot', expires: '2027-01-31' },
          { object: '*', rule: 'default-audit-set-customised', reason: 'pilot', expires: '2027-01-31' },
        ],
      });
      const evaluation = evaluateMailbox(mailboxInput({ policy, mailbox: { auditActions: lists, defaultAuditSet: ['Delegate', 'Admin'] } }), NOW);
      expect(evaluation.findings).toEqual([]);
      expect(evaluation.excepted.map((item) => item.finding.ruleId)).toEqual(['mailitemsaccessed-missing', 'default-audit-set-customised']);

      const coverage = verdict({ mailboxFindings: evaluation.excepted.map((item) => item.finding) });
      expect(coverage.verdict).toBe('not-recorded');
      expect(states(coverage)).toEqual(['not-recorded', 'recorded', 'recorded']);
    });

    it('on the organization still count too', () => {
      const policy = aPolicy({ exceptions: [{ object: ORG, rule: 'org-audit-disabled', reason: 'migration', expires: '2027-01-31' }] });
      const evaluation = evaluateOrganization(organizationInput({ auditDisabled: true }, policy), NOW);
      expect(evaluation.findings).toEqual([]);
      expect(verdict({ organizationFindings: evaluation.excepted.map((item) => item.finding) })).toEqual(uniformCoverage('not-recorded', ['org-audit-disabled']));
    });
  });

  it('takes the worst state per logon type and for the verdict, keeping every reason', () => {
    const coverage = verdict({
      organizationFindings: [],
      mailboxFindings: [findingOf('mailitemsaccessed-missing', { logonType: 'Admin' }), findingOf('mailbox-audit-log-age-short'), findingOf('audit-actions-missing', { logonType: 'Owner' })],
      ownAccountBypassed: true,
    });
    expect(coverage).toEqual({
      verdict: 'not-recorded',
      byLogonType: {
        Owner: { state: 'not-recorded', reasons: ['audit-actions-missing', 'audit-bypass-enabled', 'mailbox-audit-log-age-short'] },
        Delegate: { state: 'at-risk', reasons: ['mailbox-audit-log-age-short'] },
        Admin: { state: 'not-recorded', reasons: ['mailbox-audit-log-age-short', 'mailitemsaccessed-missing'] },
      },
    });
  });
});

describe('worstOf', () => {
  it('orders recorded < at-risk < not-recorded, either way round', () => {
    for (const a of COVERAGE_STATES) {
      for (const b of COVERAGE_STATES) {
        const expected = COVERAGE_STATES[Math.max(COVERAGE_STATES.indexOf(a), COVERAGE_STATES.indexOf(b))];
        expect(worstOf(a, b)).toBe(expected);
      }
    }
  });
});

describe('the coverage tally', () => {
  function tallyOf(coverages: MailboxCoverage[]) {
    const tally = emptyCoverageTally();
    for (const coverage of coverages) addToTally(tally, coverage);
    return tally;
  }

  it('starts at zero', () => {
    expect(emptyCoverageTally()).toEqual({
      mailboxes: 0,
      overall: { recorded: 0, 'at-risk': 0, 'not-recorded': 0 },
      byLogonType: {
        Owner: { recorded: 0, 'at-risk': 0, 'not-recorded': 0 },
        Delegate: { recorded: 0, 'at-risk': 0, 'not-recorded': 0 },
        Admin: { recorded: 0, 'at-risk': 0, 'not-recorded': 0 },
      },
    });
    expect(emptyCoverageTally()).not.toBe(emptyCoverageTally());
  });

  it('counts each mailbox once overall (by its verdict) and once per logon type', () => {
    const tally = tallyOf([
      uniformCoverage('recorded', []),
      uniformCoverage('at-risk', ['mailbox-audit-log-age-short']),
      verdict({ ownAccountBypassed: true }),
      verdict({ mailboxFindings: [findingOf('mailitemsaccessed-missing', { logonType: 'Delegate' })] }),
    ]);
    expect(tally).toEqual({
      mailboxes: 4,
      overall: { recorded: 1, 'at-risk': 1, 'not-recorded': 2 },
      byLogonType: {
        Owner: { recorded: 2, 'at-risk': 1, 'not-recorded': 1 },
        Delegate: { recorded: 2, 'at-risk': 1, 'not-recorded': 1 },
        Admin: { recorded: 3, 'at-risk': 1, 'not-recorded': 0 },
      },
    });
  });

  describe('recordedShare', () => {
    it('counts at-risk mailboxes as recorded (their records exist today)', () => {
      expect(recordedShare({ recorded: 2, 'at-risk': 1, 'not-recorded': 1 })).toBe(0.75);
      expect(recordedShare({ recorded: 0, 'at-risk': 4, 'not-recorded': 0 })).toBe(1);
      expect(recordedShare({ recorded: 0, 'at-risk': 0, 'not-recorded': 3 })).toBe(0);
    });

    it('is null when no mailbox is in scope', () => {
      expect(recordedShare(emptyCoverageTally().overall)).toBeNull();
    });

    it('reads per logon type from the tally', () => {
      const tally = tallyOf([verdict({ ownAccountBypassed: true }), uniformCoverage('recorded', [])]);
      expect(recordedShare(tally.overall)).toBe(0.5);
      expect(recordedShare(tally.byLogonType.Owner)).toBe(0.5);
      expect(recordedShare(tally.byLogonType.Delegate)).toBe(1);
    });
  });

  describe('formatShare', () => {
    it('prints one decimal and a percent sign, n/a for no mailboxes', () => {
      expect(formatShare(0.973)).toBe('97.3 %');
      expect(formatShare(0.75)).toBe('75.0 %');
      expect(formatShare(0)).toBe('0.0 %');
      expect(formatShare(1)).toBe('100.0 %');
      expect(formatShare(null)).toBe('n/a');
    });

    it('rounds down, so it never shows 100.0 % while one mailbox is not recorded', () => {
      for (const mailboxes of [1_000, 2_001, 10_000, 100_000, 1_000_000]) {
        const share = recordedShare({ recorded: mailboxes - 1, 'at-risk': 0, 'not-recorded': 1 });
        expect(formatShare(share)).not.toBe('100.0 %');
        expect(formatShare(share)).toBe('99.9 %');
      }
      expect(formatShare(2 / 3)).toBe('66.6 %');
    });

    it('does not round an exact tenth down', () => {
      for (let tenths = 0; tenths <= 1000; tenths++) {
        const share = recordedShare({ recorded: tenths, 'at-risk': 0, 'not-recorded': 1000 - tenths });
        expect(formatShare(share)).toBe(`${(tenths / 10).toFixed(1)} %`);
      }
    });
  });
});

describe('the coverage figure', () => {
  function tally(overall: [number, number, number], owner = overall, delegate = overall, admin = overall) {
    const counts = ([recorded, atRisk, notRecorded]: [number, number, number]) => ({ recorded, 'at-risk': atRisk, 'not-recorded': notRecorded });
    return {
      mailboxes: overall[0] + overall[1] + overall[2],
      overall: counts(overall),
      byLogonType: { Owner: counts(owner), Delegate: counts(delegate), Admin: counts(admin) },
    };
  }

  it('gives the shares overall and per logon type, and the counts', () => {
    const figure = coverageFigure(tally([2_700, 112, 1_000], [3_000, 112, 700], [3_812, 0, 0], [2_812, 0, 1_000]));
    expect(figure).toEqual({
      mailboxes: 3_812,
      share: 2_812 / 3_812,
      byLogonType: { Owner: 3_112 / 3_812, Delegate: 1, Admin: 2_812 / 3_812 },
      counts: { recorded: 2_700, 'at-risk': 112, 'not-recorded': 1_000 },
    });
    expect(formatCoverageHeadline(figure)).toBe(
      'Reads recorded for 73.7 % of 3,812 in-scope mailboxes (Owner 81.6 %, Delegate 100.0 %, Admin 73.7 %)',
    );
    expect(formatCoverageCounts(figure.counts)).toBe('2,700 recorded · 112 at risk · 1,000 not recorded');
  });

  it('measures the change since the previous scan in points, either way, and says when nothing moved', () => {
    expect(coverageFigure(tally([96, 0, 4]), tally([95, 0, 5])).changePoints).toBe(1);
    expect(formatCoverageHeadline(coverageFigure(tally([96, 0, 4]), tally([95, 0, 5])))).toMatch(/, \+1\.0 points since the last scan$/);
    expect(formatCoverageHeadline(coverageFigure(tally([90, 0, 10]), tally([95, 0, 5])))).toMatch(/, −5\.0 points since the last scan$/);
    expect(formatCoverageHeadline(coverageFigure(tally([95, 0, 5]), tally([95, 0, 5])))).toMatch(/, unchanged since the last scan$/);
    expect(coverageFigure(tally([95, 0, 5]))).not.toHaveProperty('changePoints');
    expect(coverageFigure(tally([95, 0, 5]), emptyCoverageTally())).not.toHaveProperty('changePoints');
  });

  it('never headlines 100.0 % while one mailbox is not recorded', () => {
    const figure = coverageFigure(tally([99_999, 0, 1]));
    expect(formatCoverageHeadline(figure)).toMatch(/^Reads recorded for 99\.9 % of 100,000 in-scope mailboxes/);
  });

  it('has no figure without mailboxes in scope', () => {
    const figure = coverageFigure(emptyCoverageTally());
    expect(figure.share).toBeNull();
    expect(formatCoverageHeadline(figure)).toBe('No mailbox in scope: no coverage figure.');
  });
});
