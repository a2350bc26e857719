import {
  ADVANCED_AUDITING_PLAN_ID,
  generateTenant,
  groundTruth,
  LOGON_TYPES,
  MAIL_ITEMS_ACCESSED,
  MANAGED_DEFAULTS,
  parseTimeSpan,
  PINNED_POLICY,
  SKU_E3,
  SKU_E5,
  startSimulatedTenant,
  TEAMS_PLAN_ID,
  type LicenceModel,
  type SimulatedTenantServer,
} from '../../../sim';
import { mulberry32 } from '../../../sim/prng';
import { findingKey, graphGet, graphPost, invoke, invokeAll } from '../../support/sim-api';

interface GraphUser {
  id: string;
  assignedLicenses: { skuId: string; disabledPlans: string[] }[];
  assignedPlans: { servicePlanId: string; capabilityStatus: string }[];
  licenseAssignmentStates: { skuId: string; assignedByGroup: string | null; disabledPlans: string[] }[];
}

/**
 * A minimal scan written only against the wire (what a client sees), under the oracle's pinned
 * policy (sim/pinned-policy.ts). If it agrees with groundTruth(), the simulator serves what its
 * oracle says it injected — so a scanner that disagrees with the oracle is wrong, not the simulator.
 */
async function scanOverHttp(server: SimulatedTenantServer, format: 'timespan' | 'iso8601'): Promise<string[]> {
  const skus = await graphGet<{ value: { skuId: string; servicePlans: { servicePlanId: string }[] }[] }>(server, '/subscribedSkus');
  const planSkus = new Set(skus.body.value.filter((sku) => sku.servicePlans.some((plan) => plan.servicePlanId === ADVANCED_AUDITING_PLAN_ID)).map((sku) => sku.skuId));

  const users = new Map<string, GraphUser>();
  let url: string | undefined = `${server.baseUrl}/v1.0/users?$filter=${encodeURIComponent('assignedLicenses/$count ne 0')}&$count=true&$top=999&$select=id,assignedLicenses,assignedPlans,licenseAssignmentStates`;
  while (url) {
    const page: { body: { value: GraphUser[]; '@odata.nextLink'?: string } } = await graphGet(server, url, { ConsistencyLevel: 'eventual' });
    for (const user of page.body.value) users.set(user.id, user);
    url = page.body['@odata.nextLink'];
  }

  const { records } = await invokeAll(
    server,
    'Get-Mailbox',
    { ResultSize: 'Unlimited', RecipientTypeDetails: PINNED_POLICY.mailboxTypes.join(',') },
    { pageSize: 1000, select: ['ExternalDirectoryObjectId', 'AuditEnabled', 'AuditLogAgeLimit', 'AuditOwner', 'AuditDelegate', 'AuditAdmin', 'DefaultAuditSet', 'PersistedCapabilities'] },
  );
  const found: string[] = [];
  for (const mailbox of records) {
    const objectId = mailbox.ExternalDirectoryObjectId as string;
    const user = users.get(objectId);
    const planAssignments = user?.licenseAssignmentStates.filter((state) => planSkus.has(state.skuId)) ?? [];
    const enabledAssignments = planAssignments.filter((state) => !state.disabledPlans.includes(ADVANCED_AUDITING_PLAN_ID));
    const planEnabled = enabledAssignments.length > 0 && (user?.assignedPlans.some((plan) => plan.servicePlanId === ADVANCED_AUDITING_PLAN_ID && plan.capabilityStatus === 'Enabled') ?? false);
    const add = (ruleId: string, logonType?: string): void => {
      found.push(findingKey({ ruleId, objectId, logonType }));
    };

    if (mailbox.AuditEnabled === false) add('mailbox-audit-disabled');
    const text = mailbox.AuditLogAgeLimit as string;
    const seconds = format === 'iso8601' ? Number(/^P(\d+)D$/.exec(text)?.[1]) * 86_400 : parseTimeSpan(text);
    if (seconds === undefined || Number.isNaN(seconds)) throw new Error(`Unreadable AuditLogAgeLimit ${text}`);
    if (seconds < PINNED_POLICY.minimumAuditLogAgeDays * 86_400) add('mailbox-audit-log-age-short');
    if ((planEnabled ? 365 : 180) < PINNED_POLICY.minimumUnifiedAuditLogRetentionDays) add('audit-retention-too-short');
    if (planAssignments.length > 0 && !planEnabled) add('advanced-auditing-plan-missing');
    const groupOnly = planEnabled && enabledAssignments.every((state) => state.assignedByGroup !== null);
    if (groupOnly && !(mailbox.PersistedCapabilities as string[]).includes('M365Auditing')) add('licence-inherited-blocks-mia');
    for (const type of LOGON_TYPES) {
      const list = mailbox[`Audit${type}`] as string[];
      // The pinned policy: Microsoft's 2026 list, MailItemsAccessed and Send included, whatever the licence.
      const missing = MANAGED_DEFAULTS[type].filter((action) => !list.includes(action));
      if (missing.includes(MAIL_ITEMS_ACCESSED)) add('mailitemsaccessed-missing', type);
      if (missing.some((action) => action !== MAIL_ITEMS_ACCESSED)) add('audit-actions-missing', type);
      if (!(mailbox.DefaultAuditSet as string[]).includes(type)) add('default-audit-set-customised', type);
    }
  }
  const bypasses = await invokeAll(server, 'Get-MailboxAuditBypassAssociation', { ResultSize: 'Unlimited' }, { pageSize: 1000, select: ['Guid', 'AuditBypassEnabled'] });
  for (const association of bypasses.records) if (association.AuditBypassEnabled === true) found.push(`audit-bypass-enabled|${association.Guid as string}`);
  const org = await invoke(server, 'Get-OrganizationConfig', {}, { select: ['Identity', 'AuditDisabled'] });
  const organization = org.body.value?.[0];
  if (organization?.AuditDisabled === true) found.push(`org-audit-disabled|${organization.Identity as string}`);
  const ingestion = await invoke(server, 'Get-AdminAuditLogConfig');
  if (ingestion.body.value?.[0]?.UnifiedAuditLogIngestionEnabled === false) found.push(`audit-log-ingestion-disabled|${organization?.Identity as string}`);

  return found.sort();
}

describe('a reference scan over HTTP', () => {
  it.each([
    ['timespan', false, '2026'],
    ['iso8601', true, '2026'],
    ['timespan', true, '2023'],
  ] as const)('finds exactly the ground truth (%s retention, org audit and ingestion disabled: %s, licence model %s)', async (format, disabled, licenceModel: LicenceModel) => {
    const tenant = generateTenant({ seed: 71, mailboxes: 2500, auditLogAgeLimitFormat: format, orgAuditDisabled: disabled, ingestionDisabled: disabled, licenceModel });
    const server = await startSimulatedTenant({ tenant });
    try {
      expect(await scanOverHttp(server, format)).toEqual(groundTruth(tenant).map(findingKey).sort());
    } finally {
      await server.stop();
    }
  });

  it.each(['2026', '2023'] as const)('still finds exactly the ground truth after hundreds of random changes through the APIs (%s)', async (licenceModel) => {
    const tenant = generateTenant({ seed: 72, mailboxes: 800, licenceModel });
    const server = await startSimulatedTenant({ tenant });
    const random = mulberry32(2024);
    const hashtable = (key: 'Add' | 'Remove', action: string) => ({ '@odata.type': '#Exchange.GenericHashTable', [key]: [action] });
    const actions = ['MailItemsAccessed', 'UpdateInboxRules', 'HardDelete', 'Send', 'Create', 'FolderBind', 'MailboxLogin', 'SendAs'];
    const statuses = new Map<number, number>();
    try {
      for (let step = 0; step < 400; step++) {
        const mailbox = random.pick(tenant.mailboxes);
        const logonType = random.pick(['Owner', 'Delegate', 'Admin']);
        let status: number;
        switch (random.nextInt(11)) {
          case 0:
            status = (await invoke(server, 'Set-Mailbox', { Identity: mailbox.guid, AuditEnabled: random.chance(0.5) })).status;
            break;
          case 1:
            status = (await invoke(server, 'Set-Mailbox', { Identity: mailbox.user.userPrincipalName, AuditLogAgeLimit: random.pick(['90.00:00:00', '180.00:00:00', '365.00:00:00', '179.12:00:00']) })).status;
            break;
          case 2:
          case 8:
            status = (await invoke(server, 'Set-Mailbox', { Identity: mailbox.alias, [`Audit${logonType}`]: hashtable(random.chance(0.5) ? 'Add' : 'Remove', random.pick(actions)) })).status;
            break;
          case 3:
            status = (await invoke(server, 'Set-Mailbox', { Identity: mailbox.guid, DefaultAuditSet: logonType })).status;
            break;
          case 4: {
            const association = random.chance(0.2) ? random.pick(tenant.mailboxlessAssociations) : mailbox.association;
            status = (await invoke(server, 'Set-MailboxAuditBypassAssociation', { Identity: random.chance(0.5) ? association.guid : association.identity, AuditBypassEnabled: random.chance(0.3) })).status;
            break;
          }
          case 5: {
            const disabledPlans = random.chance(0.5) ? [ADVANCED_AUDITING_PLAN_ID] : random.chance(0.5) ? [TEAMS_PLAN_ID] : [];
            const body = random.chance(0.8)
              ? { addLicenses: [{ skuId: SKU_E5.skuId, disabledPlans }], removeLicenses: [] }
              : { addLicenses: [{ skuId: SKU_E3.skuId, disabledPlans: [] }], removeLicenses: [] };
            status = (await graphPost(server, `/users/${mailbox.user.id}/assignLicense`, body)).status;
            break;
          }
          case 6: {
            const group = random.pick(tenant.groups);
            const sku = group.licences[0]?.skuId ?? SKU_E5.skuId;
            const disabledPlans = sku === SKU_E5.skuId && random.chance(0.5) ? [ADVANCED_AUDITING_PLAN_ID] : [];
            status = (await graphPost(server, `/groups/${group.id}/assignLicense`, { addLicenses: [{ skuId: sku, disabledPlans }], removeLicenses: [] })).status;
            break;
          }
          case 7: {
            const failing = tenant.users.filter((user) => user.groupProvisioningFailed);
            const user = failing.length > 0 && random.chance(0.7) ? random.pick(failing) : mailbox.user;
            status = (await graphPost(server, `/users/${user.id}/reprocessLicenseAssignment`, undefined)).status;
            break;
          }
          case 9:
            status = (await invoke(server, 'Set-AdminAuditLogConfig', { UnifiedAuditLogIngestionEnabled: random.chance(0.6) })).status;
            break;
          default:
            status = (await invoke(server, 'Set-OrganizationConfig', { AuditDisabled: random.chance(0.2) })).status;
        }
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
      // Some changes were refused (MailItemsAccessed during the failure, already audited, no usage location...), most applied.
      expect(statuses.get(400)).toBeGreaterThan(0);
      expect((statuses.get(200) ?? 0) + (statuses.get(202) ?? 0)).toBeGreaterThan(250);
      expect(await scanOverHttp(server, 'timespan')).toEqual(groundTruth(tenant).map(findingKey).sort());
    } finally {
      await server.stop();
    }
  });
});
