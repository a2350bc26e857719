import { parsePolicy, type AuditPolicy } from '../../../shared/config/policy';
import type { BypassAssociation, MailboxAuditSnapshot, OrganizationAuditSnapshot, UserLicenceState } from '../../../shared/domain/audit';
import type { Logger } from '../../../shared/logging';
import { emptyCoverageTally, type CoverageTally } from '../../../shared/rules/coverage';
import type { ObservedObject, ScanRecorder, ScanTotals } from '../../../shared/domain/ports';
import { runScan, type TenantReader } from '../../../shared/services/scan';
import { aBypassAssociation } from '../../support/fixtures/bypass';
import { licenceOf } from '../../support/fixtures/licence';
import { mailboxOf } from '../../support/fixtures/mailbox';
import { anOrganization } from '../../support/fixtures/organization';
import { TENANT } from '../../support/fixtures/tenant';

const AT = new Date('2026-06-15T02:00:00Z');

interface Tenant {
  organization?: OrganizationAuditSnapshot;
  licences?: UserLicenceState[];
  associations?: BypassAssociation[];
  mailboxes: MailboxAuditSnapshot[];
}

interface Run {
  observed: ObservedObject[];
  totals: ScanTotals;
  warnings: string[];
  previousCoverage?: CoverageTally;
  verdictOf(objectId: string): ObservedObject['coverage'];
}

async function scanOf(tenant: Tenant, policy: AuditPolicy = parsePolicy({}, 'test'), previousCoverage?: CoverageTally): Promise<Run> {
  const observed: ObservedObject[] = [];
  let totals: ScanTotals | undefined;
  const recorder: ScanRecorder = {
    begin: async () => ({ mailItemsAccessedRefused: new Set(), ...(previousCoverage ? { previousCoverage } : {}) }),
    observe: async (object) => {
      observed.push(object);
    },
    complete: async (done) => {
      totals = done;
      return { opened: [], resolved: [], gone: [], stillOpen: 0 };
    },
    fail: async () => undefined,
  };
  const reader: TenantReader = {
    organization: async () => tenant.organization ?? anOrganization(),
    licensedUsers: async function* () {
      yield* tenant.licences ?? [];
    },
    bypassAssociations: async function* () {
      yield* tenant.associations ?? [];
    },
    mailboxes: async function* () {
      yield* tenant.mailboxes;
    },
    apiUsage: () => ({ calls: 1, throttled: 0 }),
  };
  const warnings: string[] = [];
  const logger: Logger = { info: () => undefined, warn: (message) => warnings.push(message), error: () => undefined };
  const result = await runScan({ tenantId: TENANT, policy, reader, recorder, logger, clock: () => AT });
  expect(result.totals).toBe(totals);
  return {
    observed,
    totals: result.totals,
    warnings,
    ...(result.previousCoverage ? { previousCoverage: result.previousCoverage } : {}),
    verdictOf: (objectId) => observed.find((object) => object.objectType === 'mailbox' && object.objectId === objectId)?.coverage,
  };
}

/** Premium users (records kept a year) with clean mailboxes: every rule compliant. */
function cleanTenant(ids: string[], extra: Partial<Tenant> = {}): Tenant {
  return { licences: ids.map((id) => licenceOf(id)), mailboxes: ids.map((id) => mailboxOf(id)), ...extra };
}

const withoutMia = (list: readonly string[]) => list.filter((action) => action !== 'MailItemsAccessed');

describe('the scan judges every mailbox\'s coverage', () => {
  it('records a clean tenant as recorded, and hands each mailbox its verdict with its snapshot', async () => {
    const run = await scanOf(cleanTenant(['u1', 'u2']));
    expect(run.observed.filter((object) => object.objectType === 'mailbox').map((object) => [object.objectId, object.coverage?.verdict])).toEqual([
      ['u1', 'recorded'],
      ['u2', 'recorded'],
    ]);
    expect(run.totals.coverage).toEqual({
      mailboxes: 2,
      overall: { recorded: 2, 'at-risk': 0, 'not-recorded': 0 },
      byLogonType: {
        Owner: { recorded: 2, 'at-risk': 0, 'not-recorded': 0 },
        Delegate: { recorded: 2, 'at-risk': 0, 'not-recorded': 0 },
        Admin: { recorded: 2, 'at-risk': 0, 'not-recorded': 0 },
      },
    });
    // No verdict on the organization or a bypass association.
    expect(run.observed.find((object) => object.objectType === 'organization')).not.toHaveProperty('coverage');
  });

  it('tallies each reason: a missing logon type, a hygiene finding, a clean mailbox', async () => {
    const delegateGap = mailboxOf('gap');
    delegateGap.auditActions.Delegate = withoutMia(delegateGap.auditActions.Delegate);
    const tenant: Tenant = {
      // "e3" has no licence carrying Audit (Premium): its records are kept 180 days.
      licences: [licenceOf('clean'), licenceOf('gap')],
      mailboxes: [mailboxOf('clean'), delegateGap, mailboxOf('e3')],
    };
    const run = await scanOf(tenant);
    expect(run.verdictOf('clean')?.verdict).toBe('recorded');
    expect(run.verdictOf('gap')?.byLogonType).toEqual({
      Owner: { state: 'recorded', reasons: [] },
      Delegate: { state: 'not-recorded', reasons: ['mailitemsaccessed-missing'] },
      Admin: { state: 'recorded', reasons: [] },
    });
    expect(run.verdictOf('e3')).toMatchObject({ verdict: 'at-risk', byLogonType: { Owner: { reasons: ['audit-retention-too-short'] } } });
    expect(run.totals.coverage.overall).toEqual({ recorded: 1, 'at-risk': 1, 'not-recorded': 1 });
    expect(run.totals.coverage.byLogonType.Delegate).toEqual({ recorded: 1, 'at-risk': 1, 'not-recorded': 1 });
    expect(run.totals.coverage.byLogonType.Owner).toEqual({ recorded: 2, 'at-risk': 1, 'not-recorded': 0 });
  });

  it('counts excepted findings: an exception hides the finding, not the gap', async () => {
    const gap = mailboxOf('gap');
    gap.auditActions.Owner = withoutMia(gap.auditActions.Owner);
    const policy = parsePolicy(
      { exceptions: [{ object: 'gap@contoso.com', rule: 'mailitemsaccessed-missing', reason: 'pilot', expires: '2027-01-31' }] },
      'test',
    );
    const run = await scanOf({ licences: [licenceOf('gap')], mailboxes: [gap] }, policy);
    expect(run.totals.findingsByRule['mailitemsaccessed-missing']).toBeUndefined();
    const observed = run.observed.find((object) => object.objectId === 'gap')!;
    expect(observed.excepted.map((item) => item.finding.ruleId)).toEqual(['mailitemsaccessed-missing']);
    expect(observed.coverage?.byLogonType.Owner).toMatchObject({ state: 'not-recorded', reasons: expect.arrayContaining(['mailitemsaccessed-missing']) });
    expect(run.totals.coverage.overall['not-recorded']).toBe(1);
  });

  it('marks every mailbox not recorded while org auditing is off, or ingestion is off, even when the organization finding is excepted', async () => {
    for (const organization of [anOrganization({ auditDisabled: true }), anOrganization({ unifiedAuditLogIngestionEnabled: false })]) {
      const run = await scanOf(cleanTenant(['u1', 'u2'], { organization }));
      expect(run.totals.coverage.overall).toEqual({ recorded: 0, 'at-risk': 0, 'not-recorded': 2 });
    }
    const excepted = parsePolicy(
      { exceptions: [{ object: '*', rule: 'audit-log-ingestion-disabled', reason: 'migration', expires: '2027-01-31' }] },
      'test',
    );
    const run = await scanOf(cleanTenant(['u1'], { organization: anOrganization({ unifiedAuditLogIngestionEnabled: false }) }), excepted);
    expect(run.totals.findingsByRule['audit-log-ingestion-disabled']).toBeUndefined();
    expect(run.verdictOf('u1')).toMatchObject({ verdict: 'not-recorded', byLogonType: { Admin: { reasons: ['audit-log-ingestion-disabled'] } } });
  });

  it('never calls a mailbox recorded while ingestion could not be read: an error finding, no mailbox proven recorded', async () => {
    const organization = anOrganization({ unifiedAuditLogIngestionEnabled: null, ingestionReadError: 'Get-AdminAuditLogConfig: 403 Forbidden' });
    const run = await scanOf(cleanTenant(['u1', 'u2'], { organization }));
    const org = run.observed.find((object) => object.objectType === 'organization')!;
    expect(org.findings).toEqual([expect.objectContaining({ ruleId: 'audit-log-ingestion-disabled', error: expect.stringContaining('403 Forbidden') })]);
    expect(run.totals.ruleErrors).toBe(1);
    expect(run.totals.coverage.overall).toEqual({ recorded: 0, 'at-risk': 0, 'not-recorded': 2 });
    expect(run.verdictOf('u1')?.byLogonType.Owner).toEqual({ state: 'not-recorded', reasons: ['audit-log-ingestion-disabled'] });
  });

  describe("the mailbox's own account bypassing auditing", () => {
    const association = (identity: string, enabled = true) => aBypassAssociation({ identity, objectId: `bypass-${identity}`, auditBypassEnabled: enabled });

    it('leaves its Owner reads unrecorded, matched by the mailbox Name or UPN, any case', async () => {
      const named = mailboxOf('u1', { name: 'Adele Vance' });
      const byUpn = mailboxOf('u2');
      const run = await scanOf({
        licences: [licenceOf('u1'), licenceOf('u2'), licenceOf('u3')],
        mailboxes: [named, byUpn, mailboxOf('u3')],
        associations: [association('adele vance'), association('U2@CONTOSO.COM'), association('u3@contoso.com', false)],
      });
      for (const id of ['u1', 'u2']) {
        expect(run.verdictOf(id)?.byLogonType).toEqual({
          Owner: { state: 'not-recorded', reasons: ['audit-bypass-enabled'] },
          Delegate: { state: 'recorded', reasons: [] },
          Admin: { state: 'recorded', reasons: [] },
        });
      }
      expect(run.verdictOf('u3')?.verdict).toBe('recorded');
      expect(run.totals.findingsByRule['audit-bypass-enabled']).toBe(2);
      expect(run.totals.coverage.byLogonType.Owner).toEqual({ recorded: 1, 'at-risk': 0, 'not-recorded': 2 });
      expect(run.totals.coverage.byLogonType.Delegate).toEqual({ recorded: 3, 'at-risk': 0, 'not-recorded': 0 });
    });

    it('does not touch mailboxes when the bypassing account has no mailbox', async () => {
      const run = await scanOf(cleanTenant(['u1'], { associations: [association('svc-backup')] }));
      expect(run.totals.findingsByRule['audit-bypass-enabled']).toBe(1);
      expect(run.verdictOf('u1')?.verdict).toBe('recorded');
    });
  });

  it("hands back the recorder's previous figure for the change since the last scan", async () => {
    const previous = emptyCoverageTally();
    previous.mailboxes = 4;
    previous.overall.recorded = 4;
    const run = await scanOf(cleanTenant(['u1']), parsePolicy({}, 'test'), previous);
    expect(run.previousCoverage).toBe(previous);
    expect((await scanOf(cleanTenant(['u1']))).previousCoverage).toBeUndefined();
  });

  it('warns once per scan about what the policy asks that Exchange reportedly does not log', async () => {
    const run = await scanOf(cleanTenant(['u1']), parsePolicy({ requiredActions: { additional: { Owner: ['MailboxLogin'] } } }, 'test'));
    expect(run.warnings.filter((message) => /MailboxLogin/.test(message))).toHaveLength(1);
    expect((await scanOf(cleanTenant(['u1']))).warnings).toEqual([]);
  });
});
