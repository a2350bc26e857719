import {
  ADVANCED_AUDITING_PLAN_ID,
  fixDrift,
  fixTenantDrift,
  generateTenant,
  groundTruth,
  groundTruthCoverage,
  injectDrift,
  injectTenantDrift,
  LOGON_TYPES,
  MAIL_ITEMS_ACCESSED,
  mailboxlessAccountCount,
  MANAGED_DEFAULTS,
  ORACLE_RULE_IDS,
  PINNED_POLICY,
  SKU_E3,
  SKU_E5,
  TEAMS_PLAN_ID,
  UnknownIdentityError,
  type ExpectedCoverage,
  type LicenceModel,
  type SimMailbox,
  type SimulatedTenant,
} from '../../../sim';
import { findingKey, oracleFindingsFor } from '../../support/sim-api';

const keys = (tenant: SimulatedTenant): string[] => groundTruth(tenant).map(findingKey);
const findingsFor = (tenant: SimulatedTenant, objectId: string): string[] => oracleFindingsFor(groundTruth(tenant), objectId);
const inScope = (mailbox: SimMailbox): boolean => mailbox.recipientTypeDetails === 'UserMailbox' || mailbox.recipientTypeDetails === 'SharedMailbox';
const onlyLicence = (mailbox: SimMailbox, skuId: string, byGroup: boolean): boolean =>
  mailbox.user.licences.length === 1 && mailbox.user.licences[0]?.skuId === skuId && (mailbox.user.licences[0].assignedByGroup !== null) === byGroup;

/** A projection of everything a client can observe, for determinism checks. */
function observable(tenant: SimulatedTenant): unknown {
  return {
    tenantId: tenant.tenantId,
    domain: tenant.domain,
    organization: tenant.organization,
    users: tenant.users.map((u) => [u.id, u.userPrincipalName, u.usageLocation, u.licences, u.reprocessRepairs]),
    mailboxes: tenant.mailboxes.map((m) => [m.guid, m.recipientTypeDetails, m.auditEnabled, m.auditLogAgeLimitSeconds, m.audit, m.defaultAuditSet, m.persistedCapabilities]),
    associations: tenant.associations.map((a) => [a.guid, a.identity, a.accountKind, a.auditBypassEnabled]),
  };
}

function isCleanE5Direct(mailbox: SimMailbox): boolean {
  return mailbox.drift === null && mailbox.recipientTypeDetails === 'UserMailbox' && onlyLicence(mailbox, SKU_E5.skuId, false) && mailbox.user.licences[0]?.disabledPlans.length === 0 && !mailbox.association.auditBypassEnabled;
}

/**
 * A check of the generator, not part of the oracle: reading the state as a scanner would (under
 * the pinned policy) must agree with what the generator recorded. (The oracle never reads the state.)
 */
function scanState(tenant: SimulatedTenant): string[] {
  const expected: string[] = [];
  const add = (ruleId: string, objectId: string, logonType?: string): void => {
    expected.push(findingKey({ ruleId, objectId, logonType }));
  };
  const org = tenant.organization;
  if (org.auditDisabled) add('org-audit-disabled', org.identity);
  if (!org.unifiedAuditLogIngestionEnabled) add('audit-log-ingestion-disabled', org.identity);
  for (const mailbox of tenant.mailboxes) {
    if (!inScope(mailbox)) continue;
    const objectId = mailbox.user.id;
    const planSkus = mailbox.user.licences.filter((licence) => licence.skuId === SKU_E5.skuId);
    const enabled = planSkus.filter((licence) => !licence.disabledPlans.includes(ADVANCED_AUDITING_PLAN_ID));
    const planEnabled = enabled.length > 0;
    if (!mailbox.auditEnabled) add('mailbox-audit-disabled', objectId);
    if (mailbox.auditLogAgeLimitSeconds < PINNED_POLICY.minimumAuditLogAgeDays * 86_400) add('mailbox-audit-log-age-short', objectId);
    if ((planEnabled ? 365 : 180) < PINNED_POLICY.minimumUnifiedAuditLogRetentionDays) add('audit-retention-too-short', objectId);
    if (planSkus.length > 0 && !planEnabled) add('advanced-auditing-plan-missing', objectId);
    if (planEnabled && enabled.every((licence) => licence.assignedByGroup !== null) && !mailbox.persistedCapabilities.includes('M365Auditing')) {
      add('licence-inherited-blocks-mia', objectId);
    }
    for (const type of LOGON_TYPES) {
      const missing = MANAGED_DEFAULTS[type].filter((action) => !mailbox.audit[type].includes(action));
      if (missing.includes(MAIL_ITEMS_ACCESSED)) add('mailitemsaccessed-missing', objectId, type);
      if (missing.some((action) => action !== MAIL_ITEMS_ACCESSED)) add('audit-actions-missing', objectId, type);
      if (!mailbox.defaultAuditSet.includes(type)) add('default-audit-set-customised', objectId, type);
    }
  }
  for (const association of tenant.associations) if (association.auditBypassEnabled) add('audit-bypass-enabled', association.guid);
  return expected.sort();
}

describe('generateTenant', () => {
  it('is deterministic: the same seed and size give the same tenant and ground truth', () => {
    const a = generateTenant({ seed: 7, mailboxes: 600 });
    const b = generateTenant({ seed: 7, mailboxes: 600 });
    expect(observable(b)).toEqual(observable(a));
    expect(groundTruth(b)).toEqual(groundTruth(a));
    expect(groundTruthCoverage(b)).toEqual(groundTruthCoverage(a));

    const other = generateTenant({ seed: 8, mailboxes: 600 });
    expect(other.tenantId).not.toBe(a.tenantId);
    expect(keys(other)).not.toEqual(keys(a));
  });

  it('derives the tenant id, domain and org identity from the seed; 2026 model and ingestion on by default', () => {
    const tenant = generateTenant({ seed: 42, mailboxes: 10 });
    expect(tenant.tenantId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(tenant.domain).toBe('contoso-42.onmicrosoft.com');
    expect(tenant.organization.identity).toBe('contoso-42.onmicrosoft.com');
    expect(tenant.organization.auditDisabled).toBe(false);
    expect(tenant.organization.unifiedAuditLogIngestionEnabled).toBe(true);
    expect(tenant.licenceModel).toBe('2026');
  });

  it('has unique ids, UPNs and association guids; associations include the accounts without a mailbox', () => {
    const tenant = generateTenant({ seed: 3, mailboxes: 5000 });
    const unique = (values: string[]): number => new Set(values).size;
    expect(unique(tenant.users.map((u) => u.id))).toBe(5000);
    expect(unique(tenant.users.map((u) => u.userPrincipalName))).toBe(5000);
    expect(unique(tenant.mailboxes.map((m) => m.guid))).toBe(5000);
    expect(mailboxlessAccountCount(5000)).toBe(10);
    expect(tenant.associations).toHaveLength(5010);
    expect(unique(tenant.associations.map((a) => a.guid))).toBe(5010);
    expect(tenant.associations.every((association, index) => association.index === index)).toBe(true);
    expect(tenant.mailboxes.every((mailbox) => tenant.associations[mailbox.association.index] === mailbox.association)).toBe(true);
  });

  it('rejects a bad size, seed or licence model', () => {
    expect(() => generateTenant({ seed: 1, mailboxes: -1 })).toThrow(RangeError);
    expect(() => generateTenant({ seed: 1.5, mailboxes: 1 })).toThrow(RangeError);
    expect(() => generateTenant({ seed: 1, mailboxes: 1, licenceModel: '2019' as LicenceModel })).toThrow(RangeError);
  });

  it('licenses some E5 users through the "(no Teams)" group, whose assignment disables Teams', () => {
    const tenant = generateTenant({ seed: 4, mailboxes: 2000 });
    const [e5, noTeams, e3] = tenant.groups;
    expect(e5?.displayName).toBe('Licensing - Microsoft 365 E5');
    expect(noTeams?.displayName).toBe('Licensing - Microsoft 365 E5 (no Teams)');
    expect(noTeams?.licences).toEqual([{ skuId: SKU_E5.skuId, disabledPlans: [TEAMS_PLAN_ID] }]);
    expect(e3?.licences[0]?.skuId).toBe(SKU_E3.skuId);
    expect(noTeams!.members.size).toBeGreaterThan(50);
    const failures = [...noTeams!.members].map((index) => tenant.users[index]!).filter((user) => user.groupProvisioningFailed);
    expect(failures.length).toBeGreaterThan(5);
    for (const user of failures) expect(user.licences).toEqual([{ skuId: SKU_E5.skuId, disabledPlans: [TEAMS_PLAN_ID], assignedByGroup: noTeams!.id }]);
  });
});

describe('licence models: Microsoft\'s managed lists', () => {
  const cleanOf = (tenant: SimulatedTenant, predicate: (mailbox: SimMailbox) => boolean): SimMailbox =>
    tenant.mailboxes.find((m) => predicate(m) && m.defaultAuditSet.length === 3 && !m.drift?.customised.length)!;

  it('2026: E3, shared and plan-disabled mailboxes get the full lists, MailItemsAccessed and Send included', () => {
    const tenant = generateTenant({ seed: 16, mailboxes: 400 });
    const e3 = cleanOf(tenant, (m) => onlyLicence(m, SKU_E3.skuId, false));
    const shared = cleanOf(tenant, (m) => m.recipientTypeDetails === 'SharedMailbox');
    const planDisabled = cleanOf(tenant, (m) => m.drift?.planDisabled === true);
    const e5 = cleanOf(tenant, isCleanE5Direct);
    for (const mailbox of [e3, shared, planDisabled, e5]) {
      for (const type of LOGON_TYPES) expect([...mailbox.audit[type]]).toEqual([...MANAGED_DEFAULTS[type]]);
    }
    expect(e3.persistedCapabilities).not.toContain('M365Auditing');
    expect(e5.persistedCapabilities).toContain('M365Auditing');
    expect(MANAGED_DEFAULTS.Owner).toEqual(expect.arrayContaining([MAIL_ITEMS_ACCESSED, 'Send']));
    // Only the retention differs: Audit (Standard) keeps records 180 days, Premium 365.
    expect(findingsFor(tenant, e3.user.id)).toEqual(['audit-retention-too-short']);
    expect(findingsFor(tenant, shared.user.id)).toEqual(['audit-retention-too-short']);
    expect(findingsFor(tenant, e5.user.id)).toEqual([]);
  });

  it('2023: without M365Auditing the lists lack MailItemsAccessed, Send and SearchQueryInitiated', () => {
    const tenant = generateTenant({ seed: 16, mailboxes: 400, licenceModel: '2023' });
    expect(tenant.licenceModel).toBe('2023');
    const e3 = cleanOf(tenant, (m) => onlyLicence(m, SKU_E3.skuId, false) && !m.drift?.auditDisabled && !m.drift?.auditLogAgeShort);
    const shared = cleanOf(tenant, (m) => m.recipientTypeDetails === 'SharedMailbox' && !m.drift?.auditDisabled && !m.drift?.auditLogAgeShort);
    const e5 = tenant.mailboxes.find(isCleanE5Direct)!;
    for (const mailbox of [e3, shared]) {
      for (const type of LOGON_TYPES) {
        expect(mailbox.audit[type]).not.toContain(MAIL_ITEMS_ACCESSED);
        expect(mailbox.audit[type]).not.toContain('Send');
        expect(mailbox.audit[type]).not.toContain('SearchQueryInitiated');
      }
      // The pinned policy requires them anyway: every E3 and shared mailbox is reported.
      expect(findingsFor(tenant, mailbox.user.id)).toEqual([
        'audit-actions-missing/Admin',
        'audit-actions-missing/Owner',
        'audit-retention-too-short',
        'mailitemsaccessed-missing/Admin',
        'mailitemsaccessed-missing/Delegate',
        'mailitemsaccessed-missing/Owner',
      ]);
    }
    for (const type of LOGON_TYPES) expect([...e5.audit[type]]).toEqual([...MANAGED_DEFAULTS[type]]);
    expect(findingsFor(tenant, e5.user.id)).toEqual([]);
  });

  it('keeps the group-licensing failure in both models', () => {
    for (const licenceModel of ['2026', '2023'] as const) {
      const tenant = generateTenant({ seed: 11, mailboxes: 2000, licenceModel });
      const failures = tenant.mailboxes.filter((m) => m.drift?.groupFailure);
      expect(failures.length).toBeGreaterThan(20);
      for (const mailbox of failures) {
        const expected = findingsFor(tenant, mailbox.user.id);
        expect(expected).toEqual(expect.arrayContaining(['licence-inherited-blocks-mia', 'mailitemsaccessed-missing/Admin', 'mailitemsaccessed-missing/Delegate', 'mailitemsaccessed-missing/Owner']));
        // Graph shows the plan Enabled: a year's retention, and no plan finding.
        expect(expected.some((key) => key.startsWith('advanced-auditing-plan-missing') || key === 'audit-retention-too-short')).toBe(false);
        expect(mailbox.user.licences.every((licence) => licence.assignedByGroup !== null && !licence.disabledPlans.includes(ADVANCED_AUDITING_PLAN_ID))).toBe(true);
        expect(mailbox.persistedCapabilities).not.toContain('M365Auditing');
        for (const type of LOGON_TYPES) expect(mailbox.audit[type]).not.toContain(MAIL_ITEMS_ACCESSED);
        if (!mailbox.drift?.customised.length) {
          expect([...mailbox.defaultAuditSet].sort()).toEqual(['Admin', 'Delegate', 'Owner']);
          expect(mailbox.audit.Owner).toContain('Send');
        }
      }
      // About half of them are repaired by reprocessLicenseAssignment.
      const repairable = failures.filter((m) => m.user.reprocessRepairs).length;
      expect(repairable).toBeGreaterThan(failures.length * 0.25);
      expect(repairable).toBeLessThan(failures.length * 0.75);
    }
  });
});

describe('groundTruth', () => {
  it('covers every rule id (org-level ones only when asked for)', () => {
    const tenant = generateTenant({ seed: 1, mailboxes: 300, orgAuditDisabled: true, ingestionDisabled: true });
    const rules = new Set(groundTruth(tenant).map((finding) => finding.ruleId));
    expect([...rules].sort()).toEqual([...ORACLE_RULE_IDS].sort());
    expect(groundTruth(tenant)).toContainEqual({ ruleId: 'org-audit-disabled', objectId: 'contoso-1.onmicrosoft.com' });
    expect(groundTruth(tenant)).toContainEqual({ ruleId: 'audit-log-ingestion-disabled', objectId: 'contoso-1.onmicrosoft.com' });
    expect(tenant.organization.unifiedAuditLogIngestionEnabled).toBe(false);

    const quiet = generateTenant({ seed: 1, mailboxes: 300 });
    expect(groundTruth(quiet).some((finding) => finding.ruleId === 'org-audit-disabled' || finding.ruleId === 'audit-log-ingestion-disabled')).toBe(false);
  });

  it('covers every mailbox rule even in a tiny tenant', () => {
    const tenant = generateTenant({ seed: 99, mailboxes: 12 });
    const rules = new Set(groundTruth(tenant).map((finding) => finding.ruleId));
    expect([...rules].sort()).toEqual(ORACLE_RULE_IDS.filter((id) => id !== 'org-audit-disabled' && id !== 'audit-log-ingestion-disabled').sort());
  });

  it('has E3 user and shared mailboxes customised without MailItemsAccessed, which must be reported', () => {
    for (const seed of [1, 2, 3]) {
      const tenant = generateTenant({ seed, mailboxes: 30 });
      const customisedWithoutMia = (m: SimMailbox, type: string): boolean =>
        findingsFor(tenant, m.user.id).includes(`mailitemsaccessed-missing/${type}`) && findingsFor(tenant, m.user.id).includes(`default-audit-set-customised/${type}`);
      const e3 = tenant.mailboxes.filter((m) => m.recipientTypeDetails === 'UserMailbox' && m.user.licences.some((l) => l.skuId === SKU_E3.skuId));
      expect(e3.some((m) => customisedWithoutMia(m, 'Owner'))).toBe(true);
      expect(e3.some((m) => customisedWithoutMia(m, 'Delegate'))).toBe(true);
      const shared = tenant.mailboxes.filter((m) => m.recipientTypeDetails === 'SharedMailbox');
      expect(shared.some((m) => customisedWithoutMia(m, 'Owner'))).toBe(true);
      for (const mailbox of [...e3, ...shared].filter((m) => customisedWithoutMia(m, 'Owner'))) {
        expect(mailbox.audit.Owner).not.toContain(MAIL_ITEMS_ACCESSED);
        expect(mailbox.defaultAuditSet).not.toContain('Owner');
      }
    }
    const large = generateTenant({ seed: 5, mailboxes: 20_000 });
    const randomOnes = large.mailboxes.filter((m) => (m.recipientTypeDetails === 'SharedMailbox' || m.user.licences.some((l) => l.skuId === SKU_E3.skuId)) && LOGON_TYPES.some((t) => m.drift?.missingActions[t]?.includes(MAIL_ITEMS_ACCESSED)));
    expect(randomOnes.length).toBeGreaterThan(100);
  });

  it('keeps each kind of drift at a few percent in a large tenant', () => {
    const tenant = generateTenant({ seed: 5, mailboxes: 20_000 });
    const counts = new Map<string, number>();
    for (const finding of groundTruth(tenant)) counts.set(finding.ruleId, (counts.get(finding.ruleId) ?? 0) + 1);
    for (const rule of ['mailbox-audit-disabled', 'mailbox-audit-log-age-short', 'advanced-auditing-plan-missing', 'licence-inherited-blocks-mia']) {
      expect(counts.get(rule)).toBeGreaterThan(100);
      expect(counts.get(rule)).toBeLessThan(2000);
    }
    expect(counts.get('audit-bypass-enabled')).toBeGreaterThan(50);
    // Standard licences: E3 users (about 23 %), shared mailboxes and disabled plans, in one rule.
    expect(counts.get('audit-retention-too-short')).toBeGreaterThan(5000);
    expect(counts.get('audit-retention-too-short')).toBeLessThan(9000);
    expect(counts.has('retention-too-short')).toBe(false);
  });

  it('reports a disabled plan as advanced-auditing-plan-missing and short UAL retention, not as missing MailItemsAccessed (2026)', () => {
    const tenant = generateTenant({ seed: 12, mailboxes: 2000 });
    const disabled = tenant.mailboxes.filter((m) => m.drift?.planDisabled && !m.drift.auditDisabled && !m.drift.auditLogAgeShort && m.drift.customised.length === 0);
    expect(disabled.length).toBeGreaterThan(5);
    for (const mailbox of disabled) {
      expect(findingsFor(tenant, mailbox.user.id)).toEqual(['advanced-auditing-plan-missing', 'audit-retention-too-short']);
      expect(mailbox.user.licences[0]?.disabledPlans).toContain(ADVANCED_AUDITING_PLAN_ID);
      expect(mailbox.persistedCapabilities).not.toContain('M365Auditing');
      expect(mailbox.audit.Owner).toContain(MAIL_ITEMS_ACCESSED);
      expect(mailbox.ualRetentionDays).toBe(180);
    }
  });

  it('pairs a removed action with default-audit-set-customised for that logon type (2026)', () => {
    const tenant = generateTenant({ seed: 13, mailboxes: 3000 });
    const truth = groundTruth(tenant);
    const byObject = new Map<string, string[]>();
    for (const finding of truth) {
      const list = byObject.get(finding.objectId) ?? [];
      list.push(finding.logonType ? `${finding.ruleId}/${finding.logonType}` : finding.ruleId);
      byObject.set(finding.objectId, list);
    }
    const mismatches: string[] = [];
    for (const mailbox of tenant.mailboxes.filter(inScope)) {
      const expected = byObject.get(mailbox.user.id) ?? [];
      for (const type of LOGON_TYPES) {
        const customised = !mailbox.defaultAuditSet.includes(type);
        if (expected.includes(`default-audit-set-customised/${type}`) !== customised) mismatches.push(`${mailbox.alias}/${type}: customised`);
        const missing = expected.includes(`mailitemsaccessed-missing/${type}`) || expected.includes(`audit-actions-missing/${type}`);
        if (missing && !customised && !mailbox.drift?.groupFailure) mismatches.push(`${mailbox.alias}/${type}: an action missing from a managed list`);
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('never reports rooms or equipment, though some of them drift (they are outside audit-on-by-default)', () => {
    const tenant = generateTenant({ seed: 14, mailboxes: 3000 });
    const resources = tenant.mailboxes.filter((m) => m.recipientTypeDetails === 'RoomMailbox' || m.recipientTypeDetails === 'EquipmentMailbox');
    expect(resources.some((m) => !m.auditEnabled || m.auditLogAgeLimitSeconds < 180 * 86_400)).toBe(true);
    const reported = new Set(groundTruth(tenant).map((finding) => finding.objectId));
    for (const mailbox of resources) expect(reported.has(mailbox.user.id)).toBe(false);
    expect(groundTruthCoverage(tenant).some((entry) => resources.some((m) => m.user.id === entry.objectId))).toBe(false);
  });

  it.each(['2026', '2023'] as const)('agrees with the state it describes (%s model)', (licenceModel) => {
    const tenant = generateTenant({ seed: 15, mailboxes: 4000, licenceModel, ingestionDisabled: licenceModel === '2023' });
    expect(keys(tenant).sort()).toEqual(scanState(tenant));
  });
});

describe('bypass associations of accounts without a mailbox', () => {
  it('has a handful per tenant (max(2, mailboxes/500)), listed first, some bypassing auditing', () => {
    expect(mailboxlessAccountCount(0)).toBe(2);
    expect(mailboxlessAccountCount(999)).toBe(2);
    expect(mailboxlessAccountCount(100_000)).toBe(200);
    const tenant = generateTenant({ seed: 22, mailboxes: 3000 });
    const accounts = tenant.mailboxlessAssociations;
    expect(accounts).toHaveLength(6);
    expect(tenant.associations.slice(0, 6)).toEqual(accounts);
    expect(accounts.map((a) => a.identity)).toEqual(['svc-backup', 'admin-breakglass', 'svc-archiver', 'svc-ediscovery', 'admin-emergency', 'svc-migration']);
    expect(accounts.every((a) => a.mailbox === null && a.accountUpn === `${a.identity}@${tenant.domain}`)).toBe(true);
    expect(accounts[0]?.auditBypassEnabled).toBe(true);
    expect(accounts[1]?.auditBypassEnabled).toBe(false);
    for (const account of accounts) {
      expect(groundTruth(tenant).some((f) => f.ruleId === 'audit-bypass-enabled' && f.objectId === account.guid)).toBe(account.auditBypassEnabled);
    }
    const tiny = generateTenant({ seed: 22, mailboxes: 0 });
    expect(groundTruth(tiny)).toEqual([{ ruleId: 'audit-bypass-enabled', objectId: tiny.associations[0]!.guid }]);
  });

  it('can be injected and fixed by name, UPN or Guid', () => {
    const tenant = generateTenant({ seed: 23, mailboxes: 50 });
    const [bypassing, clean] = tenant.mailboxlessAssociations as [(typeof tenant.associations)[number], (typeof tenant.associations)[number]];
    fixDrift(tenant, bypassing.identity, 'bypass-enabled');
    expect(findingsFor(tenant, bypassing.guid)).toEqual([]);
    injectDrift(tenant, clean.accountUpn!, { kind: 'bypass-enabled' });
    expect(findingsFor(tenant, clean.guid)).toEqual(['audit-bypass-enabled']);
    fixDrift(tenant, clean.guid);
    expect(clean.auditBypassEnabled).toBe(false);
    expect(findingsFor(tenant, clean.guid)).toEqual([]);
    expect(() => fixDrift(tenant, clean.identity, 'audit-disabled')).toThrow(UnknownIdentityError);
  });
});

describe('groundTruthCoverage', () => {
  const tenant = generateTenant({ seed: 24, mailboxes: 3000 });
  const coverage = groundTruthCoverage(tenant);
  const byId = new Map(coverage.map((entry) => [entry.objectId, entry]));
  const of = (mailbox: SimMailbox): ExpectedCoverage => byId.get(mailbox.user.id)!;

  it('has one sorted entry per in-scope mailbox, overall = the worst logon type', () => {
    expect(coverage).toHaveLength(tenant.mailboxes.filter(inScope).length);
    expect(coverage.map((entry) => entry.objectId)).toEqual([...coverage.map((entry) => entry.objectId)].sort());
    const rank = { recorded: 0, 'at-risk': 1, 'not-recorded': 2 };
    for (const entry of coverage) {
      expect(rank[entry.overall]).toBe(Math.max(rank[entry.Owner], rank[entry.Delegate], rank[entry.Admin]));
      for (const type of LOGON_TYPES) expect(entry.reasons[type].length === 0).toBe(entry[type] === 'recorded');
    }
  });

  it('recorded: a clean E5 mailbox', () => {
    const mailbox = tenant.mailboxes.find(isCleanE5Direct)!;
    expect(of(mailbox)).toEqual({
      objectId: mailbox.user.id,
      Owner: 'recorded',
      Delegate: 'recorded',
      Admin: 'recorded',
      overall: 'recorded',
      reasons: { Owner: [], Delegate: [], Admin: [] },
    });
  });

  it('not recorded for the logon type that lacks MailItemsAccessed; at risk for the others', () => {
    const mailbox = tenant.mailboxes.find((m) => m.drift && onlyLicence(m, SKU_E5.skuId, false) && m.ualRetentionDays === 365 && m.drift.missingActions.Owner?.join() === MAIL_ITEMS_ACCESSED && !m.drift.missingActions.Delegate && !m.drift.missingActions.Admin && !m.association.bypassDrift)!;
    const entry = of(mailbox);
    expect(entry.Owner).toBe('not-recorded');
    expect(entry.reasons.Owner).toEqual(['mailitemsaccessed-missing']);
    // The customised Owner list is a finding about Owner's list only: the other logon types stay recorded.
    expect(entry.Delegate).toBe('recorded');
    expect(entry.reasons.Delegate).toEqual([]);
    expect(entry.overall).toBe('not-recorded');
  });

  it('not recorded for every logon type during the group-licensing failure', () => {
    const mailbox = tenant.mailboxes.find((m) => m.drift?.groupFailure && !m.association.bypassDrift)!;
    for (const type of LOGON_TYPES) {
      expect(of(mailbox)[type]).toBe('not-recorded');
      expect(of(mailbox).reasons[type]).toEqual(['mailitemsaccessed-missing', 'licence-inherited-blocks-mia']);
    }
  });

  it('not recorded for Owner only when the mailbox\'s own account bypasses auditing', () => {
    const mailbox = tenant.mailboxes.find((m) => m.association.bypassDrift && m.drift === null && m.ualRetentionDays === 365 && inScope(m))!;
    expect(of(mailbox)).toMatchObject({ Owner: 'not-recorded', Delegate: 'recorded', Admin: 'recorded', overall: 'not-recorded' });
    expect(of(mailbox).reasons.Owner).toEqual(['audit-bypass-enabled']);
  });

  it('at risk with each hygiene finding', () => {
    const cases: [string, (m: SimMailbox) => boolean][] = [
      ['audit-retention-too-short', (m) => m.drift === null && onlyLicence(m, SKU_E3.skuId, false)],
      ['advanced-auditing-plan-missing', (m) => m.drift?.planDisabled === true],
      ['audit-actions-missing', (m) => LOGON_TYPES.some((t) => m.drift?.missingActions[t]?.some((a) => a !== MAIL_ITEMS_ACCESSED))],
      ['default-audit-set-customised', (m) => (m.drift?.customised.length ?? 0) > 0],
      ['mailbox-audit-disabled', (m) => m.drift?.auditDisabled === true],
      ['mailbox-audit-log-age-short', (m) => m.drift?.auditLogAgeShort === true],
    ];
    for (const [reason, predicate] of cases) {
      const mailbox = tenant.mailboxes.find((m) => inScope(m) && predicate(m) && !m.association.bypassDrift && !m.drift?.groupFailure && !LOGON_TYPES.some((t) => m.drift?.missingActions[t]?.includes(MAIL_ITEMS_ACCESSED)));
      expect({ reason, found: mailbox !== undefined }).toEqual({ reason, found: true });
      const entry = of(mailbox!);
      expect({ reason, overall: entry.overall }).toEqual({ reason, overall: 'at-risk' });
      // Findings about one logon type's list put only that logon type at risk; the others the whole mailbox.
      const perLogonType = reason === 'audit-actions-missing' || reason === 'default-audit-set-customised';
      const affected = LOGON_TYPES.filter((type) =>
        perLogonType ? (reason === 'audit-actions-missing' ? (mailbox!.drift?.missingActions[type]?.length ?? 0) > 0 : mailbox!.drift?.customised.includes(type)) : true,
      );
      expect(affected.length).toBeGreaterThan(0);
      for (const type of affected) expect(entry.reasons[type]).toContain(reason);
    }
  });

  it('not recorded anywhere while org auditing or ingestion is off', () => {
    const copy = generateTenant({ seed: 24, mailboxes: 300 });
    injectTenantDrift(copy, 'ingestion-disabled');
    expect(groundTruthCoverage(copy).every((entry) => entry.overall === 'not-recorded' && LOGON_TYPES.every((t) => entry.reasons[t].includes('audit-log-ingestion-disabled')))).toBe(true);
    injectTenantDrift(copy, 'org-audit-disabled');
    expect(groundTruthCoverage(copy).every((entry) => LOGON_TYPES.every((t) => entry.reasons[t][0] === 'org-audit-disabled' && entry.reasons[t][1] === 'audit-log-ingestion-disabled'))).toBe(true);
    fixTenantDrift(copy);
    expect(groundTruthCoverage(copy).some((entry) => entry.overall === 'recorded')).toBe(true);
  });

  it('2023: E3 and shared mailboxes are not recorded (their managed lists lack MailItemsAccessed)', () => {
    const old = generateTenant({ seed: 24, mailboxes: 300, licenceModel: '2023' });
    const standard = old.mailboxes.filter((m) => m.recipientTypeDetails === 'SharedMailbox' || onlyLicence(m, SKU_E3.skuId, false));
    expect(standard.length).toBeGreaterThan(20);
    const byObject = new Map(groundTruthCoverage(old).map((entry) => [entry.objectId, entry]));
    for (const mailbox of standard) expect(byObject.get(mailbox.user.id)?.overall).toBe('not-recorded');
  });
});

describe('drift helpers', () => {
  const tenant = generateTenant({ seed: 21, mailboxes: 400 });
  const clean = tenant.mailboxes.filter(isCleanE5Direct);

  it('has clean E5 mailboxes to play with', () => {
    expect(clean.length).toBeGreaterThan(8);
  });

  it('"new drift appeared": each injection adds exactly its findings', () => {
    const [a, b, c, d, e, f, g] = clean as [SimMailbox, SimMailbox, SimMailbox, SimMailbox, SimMailbox, SimMailbox, SimMailbox];
    injectDrift(tenant, a.user.userPrincipalName, { kind: 'action-removed', logonType: 'Owner', action: MAIL_ITEMS_ACCESSED });
    expect(findingsFor(tenant, a.user.id)).toEqual(['default-audit-set-customised/Owner', 'mailitemsaccessed-missing/Owner']);

    injectDrift(tenant, b.guid, { kind: 'group-failure', reprocessRepairs: false });
    expect(findingsFor(tenant, b.user.id)).toEqual([
      'licence-inherited-blocks-mia',
      'mailitemsaccessed-missing/Admin',
      'mailitemsaccessed-missing/Delegate',
      'mailitemsaccessed-missing/Owner',
    ]);
    expect(b.user.reprocessRepairs).toBe(false);
    expect(b.audit.Owner).toContain('Send');

    injectDrift(tenant, c.user.id, { kind: 'plan-disabled' });
    expect(findingsFor(tenant, c.user.id)).toEqual(['advanced-auditing-plan-missing', 'audit-retention-too-short']);

    injectDrift(tenant, d.alias, { kind: 'retention-short' });
    injectDrift(tenant, d.alias, { kind: 'audit-disabled' });
    expect(findingsFor(tenant, d.user.id)).toEqual(['mailbox-audit-disabled', 'mailbox-audit-log-age-short']);

    injectDrift(tenant, e.primarySmtpAddress, { kind: 'action-added', logonType: 'Delegate', action: 'FolderBind' });
    expect(findingsFor(tenant, e.user.id)).toEqual(['default-audit-set-customised/Delegate']);

    injectDrift(tenant, f.user.userPrincipalName, { kind: 'bypass-enabled' });
    expect(findingsFor(tenant, f.association.guid)).toEqual(['audit-bypass-enabled']);

    const noTeams = tenant.groups[1]!;
    injectDrift(tenant, g.alias, { kind: 'group-failure', noTeams: true });
    expect(g.user.licences).toEqual([{ skuId: SKU_E5.skuId, disabledPlans: [TEAMS_PLAN_ID], assignedByGroup: noTeams.id }]);
    expect(noTeams.members.has(g.index)).toBe(true);
    expect(findingsFor(tenant, g.user.id)).toContain('licence-inherited-blocks-mia');
  });

  it('"an admin fixed X": fixes remove exactly their findings, and "all" leaves the mailbox clean', () => {
    const [a, b, c, d, e, f, g] = clean as [SimMailbox, SimMailbox, SimMailbox, SimMailbox, SimMailbox, SimMailbox, SimMailbox];
    fixDrift(tenant, d.alias, 'audit-log-age-short');
    expect(findingsFor(tenant, d.user.id)).toEqual(['mailbox-audit-disabled']);
    fixDrift(tenant, a.alias, 'audit-actions');
    fixDrift(tenant, b.alias, 'group-failure');
    fixDrift(tenant, c.alias, 'plan-disabled');
    fixDrift(tenant, d.alias);
    fixDrift(tenant, e.alias);
    fixDrift(tenant, f.alias, 'bypass-enabled');
    fixDrift(tenant, g.alias);
    for (const mailbox of [a, b, c, d, e, g]) {
      expect(findingsFor(tenant, mailbox.user.id)).toEqual([]);
      expect(mailbox.drift).toBeNull();
      expect(mailbox.persistedCapabilities).toContain('M365Auditing');
      expect(mailbox.audit.Owner).toContain(MAIL_ITEMS_ACCESSED);
    }
    expect(findingsFor(tenant, f.association.guid)).toEqual([]);
  });

  it('"all" does not upgrade a Standard licence: E3 keeps its retention finding', () => {
    const e3 = tenant.mailboxes.find((m) => onlyLicence(m, SKU_E3.skuId, false) && m.drift !== null)!;
    fixDrift(tenant, e3.guid);
    expect(findingsFor(tenant, e3.user.id)).toEqual(['audit-retention-too-short']);
  });

  it('switches ingestion and org auditing off and on, with the oracle', () => {
    const org = tenant.organization.identity;
    injectTenantDrift(tenant, 'ingestion-disabled');
    expect(tenant.organization.unifiedAuditLogIngestionEnabled).toBe(false);
    expect(findingsFor(tenant, org)).toEqual(['audit-log-ingestion-disabled']);
    injectTenantDrift(tenant, 'org-audit-disabled');
    expect(findingsFor(tenant, org)).toEqual(['audit-log-ingestion-disabled', 'org-audit-disabled']);
    fixTenantDrift(tenant, 'ingestion-disabled');
    expect(findingsFor(tenant, org)).toEqual(['org-audit-disabled']);
    fixTenantDrift(tenant);
    expect(findingsFor(tenant, org)).toEqual([]);
  });

  it('names an unknown identity', () => {
    expect(() => injectDrift(tenant, 'nobody@example.com', { kind: 'audit-disabled' })).toThrow(UnknownIdentityError);
    expect(() => injectDrift(tenant, 'nobody@example.com', { kind: 'bypass-enabled' })).toThrow(UnknownIdentityError);
  });
});
