import type { AuditPolicy } from '../config/policy';
import { describeError } from '../errors';
import type { Logger } from '../logging';

/** One tenant and the policy that sets how long its drift history is kept. */
export interface TenantRetention {
  tenantId: string;
  policy: Pick<AuditPolicy, 'historyRetentionDays'>;
}

/** Deletes one tenant's history older than its policy's retention; the store decides what must stay. */
export type PruneTenantHistory = (tenantId: string, retentionDays: number, now: Date) => Promise<unknown>;

export interface RetentionOutcome {
  tenantId: string;
  retentionDays: number;
  /** What the store reports it deleted; absent when the tenant failed. */
  result?: unknown;
  error?: string;
}

/**
 * The weekly retention run: each tenant with its own policy's `historyRetentionDays`. One tenant's
 * failure is logged and reported, never stops another's; nothing that is still open, and no
 * mailbox's latest configuration, is ever deleted (the store guarantees that).
 */
export async function pruneHistoryOfTenants(
  tenants: readonly TenantRetention[],
  prune: PruneTenantHistory,
  now: Date,
  logger: Logger,
): Promise<RetentionOutcome[]> {
  const outcomes: RetentionOutcome[] = [];
  for (const { tenantId, policy } of tenants) {
    const retentionDays = policy.historyRetentionDays;
    try {
      const result = await prune(tenantId, retentionDays, now);
      logger.info('drift history pruned', { tenantId, retentionDays });
      outcomes.push({ tenantId, retentionDays, result });
    } catch (error) {
      const reason = describeError(error);
      logger.error('could not prune drift history; the next run tries again', { tenantId, retentionDays, error: reason });
      outcomes.push({ tenantId, retentionDays, error: reason });
    }
  }
  return outcomes;
}
