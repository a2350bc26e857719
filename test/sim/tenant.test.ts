import { ADVANCED_AUDITING_PLAN_ID, LOGON_TYPES, MAIL_ITEMS_ACCESSED } from '../../shared/domain/audit';
import { findingKey, RULE_IDS } from '../../shared/domain/finding';
import {
  fixDrift,
  generateTenant,
  groundTruth,
  injectDrift,
  SKU_E5,
  UnknownIdentityError,
  type ExpectedFinding,
  type SimMailbox,
  type SimulatedTenant,
} from '../../sim';
import auditActions from '../../shared/rules/audit-actions.json';

const keys = (findings: ExpectedFinding[]): string[] => findings.map(findingKey);
const findingsFor = (tenant: SimulatedTenant, objectId: string): string[] =>
  groundTruth(tenant)
    .filter((finding) => finding.objectId === objectId)
    .map((finding) => (finding.logonType ? `${finding.ruleId}/${finding.logonType}` : finding.ruleId))
    .sort();

/** A projection of everything a client can observe, for determinism checks. */
function observable(tenant: SimulatedTenant): unknown {
  return {
    tenantId: tenant.tenantId,
    domain: tenant.domain,
    users: tenant.users.map((u) => [u.id, u.userPrincipalName, u.usageLocation, u.licences]),
    mailboxes: tenant.mailboxes.map((m) => [m.guid, m.recipientTypeDetails, m.auditEnabled, m.auditLogAgeLimitSeconds, m.audit, m.defaultAuditSet, m.persistedCapabilities]),
    associations: tenant.associations.map((a) => [a.guid, a.identity, a.auditBypassEnabled]),
  };
}

function isCleanE5Direct(mailbox: SimMailbox): boolean {
  const [licence, ...rest] = mailbox.user.licences;
  return (
    mailbox.drift === null &&
    mailbox.recipientTypeDetails === 'UserMailbox' &&
    rest.length === 0 &&
    licence?.skuId === SKU_E5.skuId &&
    licence.assignedByGroup === null &&
    licence.disabledPlans.length === 0 &&
    !mailbox.association.auditBypassEnabled
  );
}

describe('generateTenant', () => {
  it('is deterministic: the same seed and size give the same tenant and ground truth', () => {
    const a = generateTenant({ seed: 7, mailboxes: 600 });
    const b = generateTenant({ seed: 7, mailboxes: 600 });
    expect(observable(b)).toEqual(observable(a));
    expect(groundTruth(b)).toEqual(groundTruth(a));

    const other = generateTenant({ seed: 8, mailboxes: 600 });
    expect(other.tenantId).not.toBe(a.tenantId);
    expect(keys(groundTruth(other))).not.toEqual(keys(groundTruth(a)));
  });

  it('derives the tenant id, domain and org identity from the seed', () => {
    const tenant = generateTenant({ seed: 42, mailboxes: 10 });
    expect(tenant.tenantId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(tenant.domain).toBe('contoso-42.onmicrosoft.com');
    expect(tenant.organization.identity).toBe('contoso-42.onmicrosoft.com');
    expect(tenant.organization.auditDisabled).toBe(false);
  });

  it('has unique ids, UPNs and association guids', () => {
    const tenant = generateTenant({ seed: 3, mailboxes: 5000 });
    const unique = (values: string[]): number => new Set(values).size;
    expect(unique(tenant.users.map((u) => u.id))).toBe(5000);
    expect(unique(tenant.users.map((u) => u.userPrincipalName))).toBe(5000);
    expect(unique(tenant.mailboxes.map((m) => m.guid))).toBe(5000);
    expect(unique(tenant.associations.map((a) => a.guid))).toBe(5000);
  });

  it('rejects a bad size or seed', () => {
    expect(() => generateTenant({ seed: 1, mailboxes: -1 })).toThrow(RangeError);
    expect(() => generateTenant({ seed: 1.5, mailboxes: 1 })).toThrow(RangeError);
  });
});

describe('groundTruth', () => {
  it('covers every rule id (org-audit-disabled only when asked for)', () => {
    const tenant = generateTenant({ seed: 1, mailboxes: 300, orgAuditDisabled: true });
    const rules = new Set(groundTruth(tenant).map((finding) => finding.ruleId));
    expect([...rules].sort()).toEqual([...RULE_IDS].sort());
    expect(groundTruth(tenant)).toContainEqual({ ruleId: 'org-audit-disabled', objectId: 'contoso-1.onmicrosoft.com' });

    const quiet = generateTenant({ seed: 1, mailboxes: 300 });
    expect(groundTruth(quiet).some((finding) => finding.ruleId === 'org-audit-disabled')).toBe(false);
  });

  it('covers every mailbox rule even in a tiny tenant', () => {
    const tenant = generateTenant({ seed: 99, mailboxes: 12 });
    const rules = new Set(groundTruth(tenant).map((finding) => finding.ruleId));
    expect([...rules].sort()).toEqual(RULE_IDS.filter((id) => id !== 'org-audit-disabled').sort());
  });

  it('keeps each kind of drift at a few percent in a large tenant', () => {
    const tenant = generateTenant({ seed: 5, mailboxes: 20_000 });
    const counts = new Map<string, number>();
    for (const finding of groundTruth(tenant)) counts.set(finding.ruleId, (counts.get(finding.ruleId) ?? 0) + 1);
    for (const rule of ['mailbox-audit-disabled', 'retention-too-short', 'advanced-auditing-plan-missing', 'licence-inherited-blocks-mia']) {
      expect(counts.get(rule)).toBeGreaterThan(100);
      expect(counts.get(rule)).toBeLessThan(2000);
    }
    expect(counts.get('audit-bypass-enabled')).toBeGreaterThan(50);
  });

  it('reports the group-licensing failure with MailItemsAccessed missing for all three logon types', () => {
    const tenant = generateTenant({ seed: 11, mailboxes: 2000 });
    const failures = tenant.mailboxes.filter((m) => m.drift?.groupFailure);
    expect(failures.length).toBeGreaterThan(5);
    for (const mailbox of failures) {
      const expected = findingsFor(tenant, mailbox.user.id);
      expect(expected).toEqual(expect.arrayContaining(['licence-inherited-blocks-mia', 'mailitemsaccessed-missing/Admin', 'mailitemsaccessed-missing/Delegate', 'mailitemsaccessed-missing/Owner']));
      expect(expected.some((key) => key.startsWith('advanced-auditing-plan-missing'))).toBe(false);
      // Graph says the plan is on, through a group; Exchange never got it.
      expect(mailbox.user.licences.every((licence) => licence.assignedByGroup !== null && licence.disabledPlans.length === 0)).toBe(true);
      expect(mailbox.persistedCapabilities).not.toContain('M365Auditing');
      for (const type of LOGON_TYPES) expect(mailbox.audit[type]).not.toContain(MAIL_ITEMS_ACCESSED);
      if (!mailbox.drift?.customised.length) expect([...mailbox.defaultAuditSet].sort()).toEqual(['Admin', 'Delegate', 'Owner']);
    }
  });

  it('reports a disabled plan as advanced-auditing-plan-missing only, not as missing MailItemsAccessed', () => {
    const tenant = generateTenant({ seed: 12, mailboxes: 2000 });
    const disabled = tenant.mailboxes.filter((m) => m.drift?.planDisabled && !m.drift.auditDisabled && !m.drift.retentionShort && m.drift.customised.length === 0);
    expect(disabled.length).toBeGreaterThan(5);
    for (const mailbox of disabled) {
      expect(findingsFor(tenant, mailbox.user.id)).toEqual(['advanced-auditing-plan-missing']);
      expect(mailbox.user.licences[0]?.disabledPlans).toContain(ADVANCED_AUDITING_PLAN_ID);
      expect(mailbox.audit.Owner).not.toContain(MAIL_ITEMS_ACCESSED);
    }
  });

  it('pairs a removed action with default-audit-set-customised for that logon type', () => {
    const tenant = generateTenant({ seed: 13, mailboxes: 3000 });
    const byObject = new Map<string, string[]>();
    for (const finding of groundTruth(tenant)) {
      const list = byObject.get(finding.objectId) ?? [];
      list.push(finding.logonType ? `${finding.ruleId}/${finding.logonType}` : finding.ruleId);
      byObject.set(finding.objectId, list);
    }
    const mismatches: string[] = [];
    for (const mailbox of tenant.mailboxes) {
      if (mailbox.recipientTypeDetails !== 'UserMailbox' && mailbox.recipientTypeDetails !== 'SharedMailbox') continue;
      const expected = byObject.get(mailbox.user.id) ?? [];
      for (const type of LOGON_TYPES) {
        const customised = !mailbox.defaultAuditSet.includes(type);
        if (expected.includes(`default-audit-set-customised/${type}`) !== customised) mismatches.push(`${mailbox.alias}/${type}: customised`);
        const miaMissing = expected.includes(`mailitemsaccessed-missing/${type}`) && !mailbox.drift?.groupFailure;
        if (miaMissing && !customised) mismatches.push(`${mailbox.alias}/${type}: MailItemsAccessed missing from a managed list`);
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('never reports rooms or equipment, though some of them drift', () => {
    const tenant = generateTenant({ seed: 14, mailboxes: 3000 });
    const resources = tenant.mailboxes.filter((m) => m.recipientTypeDetails === 'RoomMailbox' || m.recipientTypeDetails === 'EquipmentMailbox');
    expect(resources.some((m) => !m.auditEnabled || m.auditLogAgeLimitSeconds < 180 * 86_400)).toBe(true);
    const reported = new Set(groundTruth(tenant).map((finding) => finding.objectId));
    for (const mailbox of resources) expect(reported.has(mailbox.user.id)).toBe(false);
  });

  /**
   * A check of the generator, not part of the oracle: reading the state as a scanner would must
   * agree with what the generator recorded. (The oracle itself never reads the state.)
   */
  it('agrees with the state it describes', () => {
    const tenant = generateTenant({ seed: 15, mailboxes: 4000 });
    const defaults = auditActions.default as Record<string, string[]>;
    const premium = new Set(auditActions.premiumOnly);
    const expected = new Set<string>();
    for (const mailbox of tenant.mailboxes) {
      if (mailbox.recipientTypeDetails !== 'UserMailbox' && mailbox.recipientTypeDetails !== 'SharedMailbox') continue;
      const objectId = mailbox.user.id;
      const planSkus = mailbox.user.licences.filter((licence) => licence.skuId === SKU_E5.skuId);
      const planEnabled = planSkus.some((licence) => !licence.disabledPlans.includes(ADVANCED_AUDITING_PLAN_ID));
      const viaGroupOnly = planEnabled && planSkus.every((licence) => licence.assignedByGroup !== null);
      if (!mailbox.auditEnabled) expected.add(`mailbox-audit-disabled|${objectId}`);
      if (mailbox.auditLogAgeLimitSeconds < 180 * 86_400) expected.add(`retention-too-short|${objectId}`);
      if (planSkus.length > 0 && !planEnabled) expected.add(`advanced-auditing-plan-missing|${objectId}`);
      if (viaGroupOnly && !mailbox.persistedCapabilities.includes('M365Auditing')) expected.add(`licence-inherited-blocks-mia|${objectId}`);
      for (const type of LOGON_TYPES) {
        const required = (defaults[type] ?? []).filter((action) => planEnabled || !premium.has(action));
        const missing = required.filter((action) => !mailbox.audit[type].includes(action));
        if (missing.includes(MAIL_ITEMS_ACCESSED)) expected.add(`mailitemsaccessed-missing|${objectId}|${type}`);
        if (missing.some((action) => action !== MAIL_ITEMS_ACCESSED)) expected.add(`audit-actions-missing|${objectId}|${type}`);
        if (!mailbox.defaultAuditSet.includes(type)) expected.add(`default-audit-set-customised|${objectId}|${type}`);
      }
    }
    for (const association of tenant.associations) if (association.auditBypassEnabled) expected.add(`audit-bypass-enabled|${association.guid}`);
    expect(keys(groundTruth(tenant)).sort()).toEqual([...expected].sort());
  });
});

describe('drift helpers', () => {
  const tenant = generateTenant({ seed: 21, mailboxes: 400 });
  const clean = tenant.mailboxes.filter(isCleanE5Direct);

  it('has clean E5 mailboxes to play with', () => {
    expect(clean.length).toBeGreaterThan(6);
  });

  it('"new drift appeared": each injection adds exactly its findings', () => {
    const [a, b, c, d, e, f] = clean as [SimMailbox, SimMailbox, SimMailbox, SimMailbox, SimMailbox, SimMailbox];
    injectDrift(tenant, a.user.userPrincipalName, { kind: 'action-removed', logonType: 'Owner', action: MAIL_ITEMS_ACCESSED });
    expect(findingsFor(tenant, a.user.id)).toEqual(['default-audit-set-customised/Owner', 'mailitemsaccessed-missing/Owner']);

    injectDrift(tenant, b.guid, { kind: 'group-failure' });
    expect(findingsFor(tenant, b.user.id)).toEqual([
      'licence-inherited-blocks-mia',
      'mailitemsaccessed-missing/Admin',
      'mailitemsaccessed-missing/Delegate',
      'mailitemsaccessed-missing/Owner',
    ]);

    injectDrift(tenant, c.user.id, { kind: 'plan-disabled' });
    expect(findingsFor(tenant, c.user.id)).toEqual(['advanced-auditing-plan-missing']);

    injectDrift(tenant, d.alias, { kind: 'retention-short' });
    injectDrift(tenant, d.alias, { kind: 'audit-disabled' });
    expect(findingsFor(tenant, d.user.id)).toEqual(['mailbox-audit-disabled', 'retention-too-short']);

    injectDrift(tenant, e.primarySmtpAddress, { kind: 'action-added', logonType: 'Delegate', action: 'FolderBind' });
    expect(findingsFor(tenant, e.user.id)).toEqual(['default-audit-set-customised/Delegate']);

    injectDrift(tenant, f.user.userPrincipalName, { kind: 'bypass-enabled' });
    expect(findingsFor(tenant, f.association.guid)).toEqual(['audit-bypass-enabled']);
  });

  it('"an admin fixed X": fixes remove exactly their findings, and "all" leaves the mailbox clean', () => {
    const [a, b, c, d, e, f] = clean as [SimMailbox, SimMailbox, SimMailbox, SimMailbox, SimMailbox, SimMailbox];
    fixDrift(tenant, d.alias, 'retention-short');
    expect(findingsFor(tenant, d.user.id)).toEqual(['mailbox-audit-disabled']);
    fixDrift(tenant, a.alias, 'audit-actions');
    fixDrift(tenant, b.alias, 'group-failure');
    fixDrift(tenant, c.alias, 'plan-disabled');
    fixDrift(tenant, d.alias);
    fixDrift(tenant, e.alias);
    fixDrift(tenant, f.alias, 'bypass-enabled');
    for (const mailbox of [a, b, c, d, e]) {
      expect(findingsFor(tenant, mailbox.user.id)).toEqual([]);
      expect(mailbox.drift).toBeNull();
      expect(mailbox.persistedCapabilities).toContain('M365Auditing');
      expect(mailbox.audit.Owner).toContain(MAIL_ITEMS_ACCESSED);
    }
    expect(findingsFor(tenant, f.association.guid)).toEqual([]);
  });

  it('names an unknown identity', () => {
    expect(() => injectDrift(tenant, 'nobody@example.com', { kind: 'audit-disabled' })).toThrow(UnknownIdentityError);
  });
});
