import type { AuditPolicy } from '../../config/policy';
import type { RuleId } from '../../domain/finding';
import type { Logger } from '../../logging';
import type { QueueGateway } from '../../queue';
import type { LicenceDirectory } from '../../tenant/gateway';
import type { ApprovalRepository } from '../../store/approvals';
import type { FindingStatus, StoredFinding } from '../../store/model';
import type { AuditStore } from '../../store/open';
import type { RemediationRepository } from '../../store/remediations';

/**
 * What planning and deciding need, built once by the composition root (app/remediation-environment.ts).
 * Each use case takes only the part it reads (a `Pick` of this), so a test can pass plain fakes.
 */
export interface RemediationServices {
  tenantId: string;
  policy: AuditPolicy;
  /** REMEDIATION_PAUSED: plan and report, but enqueue and apply nothing. */
  paused: boolean;
  store: AuditStore;
  remediations: RemediationRepository;
  approvals: ApprovalRepository;
  queues: QueueGateway;
  logger: Logger;
  clock?: () => Date;
  /** How long an approval request stays open (default 72 h, the life of a Teams card's links). */
  approvalTtlMs?: number;
  /**
   * Graph reads for the licence fix (licence-inherited-blocks-mia's step 2). Without it that
   * rule's findings get advice only.
   */
  licences?: LicenceDirectory;
}

export function clockOf(services: { clock?: () => Date }): () => Date {
  return services.clock ?? (() => new Date());
}

/** Narrows a listing to one rule or one mailbox (by object id or UPN). */
export interface FindingFilter {
  ruleId?: RuleId;
  mailbox?: string;
}

/** The findings in one status, a page at a time, so memory stays flat as the tenant grows. */
export async function* findingsWith(
  services: Pick<RemediationServices, 'tenantId' | 'store'>,
  status: FindingStatus,
  filter: FindingFilter,
): AsyncGenerator<StoredFinding> {
  let next: string | undefined;
  do {
    const page = await services.store.findings.list(
      services.tenantId,
      { status, ...(filter.ruleId ? { ruleId: filter.ruleId } : {}), ...(filter.mailbox ? { mailbox: filter.mailbox } : {}) },
      { pageSize: 1000, ...(next ? { next } : {}) },
    );
    yield* page.items;
    next = page.next;
  } while (next);
}
