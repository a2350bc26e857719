import type { BypassAssociation, MailboxAuditSnapshot, OrganizationAuditSnapshot } from '../domain/audit';
import {
  getBypassAssociation,
  getMailbox,
  getOrganizationConfig,
  setBypassAssociation,
  setMailboxAudit,
  setOrganizationAuditDisabled,
  type CommandOutcome,
  type ExchangeCommandRunner,
  type MailboxAuditChange,
} from '../exchange';
import { assignLicenseDirect, getSkusWithAdvancedAuditing, getUser, type GraphClient, type GraphLicensedUser } from '../graph';

/**
 * The reads and writes remediation makes in the tenant: the typed cmdlet wrappers over Exchange
 * Online, and Graph for licences. A fake of this is enough to unit-test the worker.
 */
export interface RemediationTenant {
  getMailbox(identity: string): Promise<MailboxAuditSnapshot | undefined>;
  getBypassAssociation(identity: string): Promise<BypassAssociation | undefined>;
  /** `fresh` for org-audit-disabled itself; mailbox rules only need some recent copy. */
  getOrganization(fresh?: boolean): Promise<OrganizationAuditSnapshot>;
  /** The user with licence properties; undefined when Graph has no such user. */
  getUser(id: string): Promise<GraphLicensedUser | undefined>;
  /** skuIds (lower-case) whose plans include Advanced Auditing; cached, the catalogue rarely changes. */
  skusWithAdvancedAuditing(): Promise<ReadonlySet<string>>;
  setMailbox(identity: string, change: MailboxAuditChange): Promise<CommandOutcome>;
  setBypassAssociation(identity: string, enabled: false): Promise<CommandOutcome>;
  setOrganizationAuditDisabled(disabled: false): Promise<CommandOutcome>;
  assignLicence(userId: string, skuId: string): Promise<void>;
}

const SKU_CACHE_MS = 10 * 60 * 1000;
/** Mailbox rules never read the organization; it is re-read now and then, not per mailbox. */
const ORGANIZATION_CACHE_MS = 60 * 1000;

export function createRemediationTenant(exchange: ExchangeCommandRunner, graph: GraphClient, clock: () => number = Date.now): RemediationTenant {
  let skus: { at: number; value: Promise<ReadonlySet<string>> } | undefined;
  let organization: { at: number; value: Promise<OrganizationAuditSnapshot> } | undefined;
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
    getUser: (id) => getUser(graph, id),
    skusWithAdvancedAuditing: () => {
      if (!skus || clock() - skus.at > SKU_CACHE_MS) {
        const value = getSkusWithAdvancedAuditing(graph);
        skus = { at: clock(), value };
        value.catch(() => (skus = undefined));
      }
      return skus.value;
    },
    setMailbox: (identity, change) => setMailboxAudit(exchange, identity, change),
    setBypassAssociation: (identity, enabled) => setBypassAssociation(exchange, identity, enabled),
    setOrganizationAuditDisabled: (disabled) => setOrganizationAuditDisabled(exchange, disabled),
    assignLicence: (userId, skuId) => assignLicenseDirect(graph, userId, skuId),
  };
}

