import type { BypassAssociation, MailboxAuditSnapshot, OrganizationAuditSnapshot } from '../domain/audit';
import {
  enableUnifiedAuditLogIngestion,
  getBypassAssociation,
  getMailbox,
  getOrganizationConfig,
  getUnifiedAuditLogIngestion,
  setBypassAssociation,
  setMailboxAudit,
  setOrganizationAuditDisabled,
  type CommandOutcome,
  type ExchangeCommandRunner,
  type MailboxAuditChange,
} from '../exchange';
import {
  assignLicense,
  getSubscribedSkus,
  getUser,
  reprocessLicenseAssignment,
  skusWithAdvancedAuditing,
  type GraphClient,
  type GraphLicensedUser,
  type LicenceToAdd,
  type SubscribedSku,
} from '../graph';

/**
 * The reads and writes remediation makes in the tenant: the typed cmdlet wrappers over Exchange
 * Online, and Graph for licences. A fake of this is enough to unit-test the worker.
 */
export interface RemediationTenant {
  getMailbox(identity: string): Promise<MailboxAuditSnapshot | undefined>;
  getBypassAssociation(identity: string): Promise<BypassAssociation | undefined>;
  /** `fresh` for the organization rules themselves; mailbox rules only need some recent copy. */
  getOrganization(fresh?: boolean): Promise<OrganizationAuditSnapshot>;
  /** Get-AdminAuditLogConfig UnifiedAuditLogIngestionEnabled, read now (errors are thrown, not folded in). */
  getUnifiedAuditLogIngestion(): Promise<boolean>;
  /** The user with licence properties; undefined when Graph has no such user. */
  getUser(id: string): Promise<GraphLicensedUser | undefined>;
  /** skuIds (lower-case) whose plans include Advanced Auditing; cached, the catalogue rarely changes. */
  skusWithAdvancedAuditing(): Promise<ReadonlySet<string>>;
  /** The tenant's subscriptions with their plans' names; cached like skusWithAdvancedAuditing. */
  subscribedSkus(): Promise<readonly SubscribedSku[]>;
  setMailbox(identity: string, change: MailboxAuditChange): Promise<CommandOutcome>;
  setBypassAssociation(identity: string, enabled: false): Promise<CommandOutcome>;
  setOrganizationAuditDisabled(disabled: false): Promise<CommandOutcome>;
  enableUnifiedAuditLogIngestion(): Promise<CommandOutcome>;
  reprocessLicence(userId: string): Promise<void>;
  /** Sends assignLicense and returns the exact body sent. */
  assignLicence(userId: string, licence: LicenceToAdd): Promise<{ addLicenses: LicenceToAdd[]; removeLicenses: string[] }>;
}

/** The licence reads planning needs (a subset of the tenant, so planning cannot write). */
export type LicenceDirectory = Pick<RemediationTenant, 'getUser' | 'subscribedSkus'>;

const SKU_CACHE_MS = 10 * 60 * 1000;
/** Mailbox rules never read the organization; it is re-read now and then, not per mailbox. */
const ORGANIZATION_CACHE_MS = 60 * 1000;

export function createRemediationTenant(exchange: ExchangeCommandRunner, graph: GraphClient, clock: () => number = Date.now): RemediationTenant {
  let skus: { at: number; value: Promise<SubscribedSku[]> } | undefined;
  let organization: { at: number; value: Promise<OrganizationAuditSnapshot> } | undefined;
  const catalogue = () => {
    if (!skus || clock() - skus.at > SKU_CACHE_MS) {
      const value = getSubscribedSkus(graph);
      skus = { at: clock(), value };
      value.catch(() => (skus = undefined));
    }
    return skus.value;
  };
  return {
    getMailbox: (identity) => getMailbox(exchange, identity),
    getBypassAssociation: (identity) => getBypassAssociation(exchange, identity),
    getOrganization: (fresh = false) => {
      if (fresh || !organization || clock() - organization.at > ORGANIZATION_CACHE_MS) {
        const value = getOrganizationConfig(exchange);
        organization = { at: clock(), value };
        value.catch(() => (organization = undefined));
      }
      return organization.value;
    },
    getUnifiedAuditLogIngestion: () => getUnifiedAuditLogIngestion(exchange),
    getUser: (id) => getUser(graph, id),
    skusWithAdvancedAuditing: async () => skusWithAdvancedAuditing(await catalogue()),
    subscribedSkus: catalogue,
    setMailbox: (identity, change) => setMailboxAudit(exchange, identity, change),
    setBypassAssociation: (identity, enabled) => setBypassAssociation(exchange, identity, enabled),
    setOrganizationAuditDisabled: (disabled) => setOrganizationAuditDisabled(exchange, disabled),
    enableUnifiedAuditLogIngestion: async () => {
      const outcome = await enableUnifiedAuditLogIngestion(exchange);
      // The organization snapshot cached above now says the opposite of the tenant.
      organization = undefined;
      return outcome;
    },
    reprocessLicence: (userId) => reprocessLicenseAssignment(graph, userId),
    assignLicence: (userId, licence) => assignLicense(graph, userId, licence),
  };
}
