import type { FindingValue } from '../../domain/finding';
import { MESSAGE_VERSION, REMEDIATIONS_QUEUE, type RemediationMessage } from '../../queue';
import type { RemediationPlan } from '../../remediation/plan';
import type { FindingStatus, StoredFinding } from '../../store/model';
import { changeFinding } from '../finding-changes';
import type { RemediationServices } from './services';

/** Messages sent at once: enough to hide the queue's latency, few enough to stay polite to Storage. */
const SEND_CONCURRENCY = 16;

/**
 * Puts plans on the remediations queue: ledger rows (batched), the messages, then the findings'
 * status (`remediating`, batched when the caller passes the findings it read). Ledger first: a
 * change already in hand is not sent again, and one queued but perhaps never sent (the process
 * stopped between) is sent again — the worker makes a duplicate harmless.
 */
export async function enqueuePlans(
  services: Pick<RemediationServices, 'tenantId' | 'store' | 'remediations' | 'queues' | 'paused'>,
  plans: RemediationPlan[],
  requestedBy: string,
  approvalId: string | undefined,
  now: Date,
  findings?: ReadonlyMap<string, StoredFinding>,
  /** The blast-radius day these automatic changes were granted from. */
  budgetDay?: string,
): Promise<number> {
  if (services.paused || plans.length === 0) return 0;
  const decisions = await services.remediations.markQueuedMany(services.tenantId, plans, {
    requestedBy,
    ...(approvalId ? { approvalId } : {}),
    at: now,
    ...(budgetDay ? { budgetDay } : {}),
  });
  const sent: RemediationPlan[] = [];
  await runLimited(
    plans.filter((_, index) => decisions[index]),
    SEND_CONCURRENCY,
    async (plan) => {
      const message: RemediationMessage = {
        version: MESSAGE_VERSION,
        type: 'remediation',
        tenantId: services.tenantId,
        plan,
        requestedBy,
        ...(approvalId ? { approvalId } : {}),
        enqueuedAt: now.toISOString(),
      };
      await services.queues.send(REMEDIATIONS_QUEUE, message);
      sent.push(plan);
    },
  );
  if (findings) {
    await setStatuses(services, sent, findings, 'remediating', (plan, current) => ({
      ...current.metadata,
      remediationKey: plan.idempotencyKey,
      remediationStage: 'queued',
      approvedKey: null,
    }));
  }
  return sent.length;
}

/**
 * Event-less status changes of many findings in batches, each guarded by the ETag read when the
 * finding was listed; one that changed since is redone alone, if it is still the same episode in
 * a status the change applies to.
 */
export async function setStatuses(
  services: Pick<RemediationServices, 'tenantId' | 'store'>,
  plans: RemediationPlan[],
  findings: ReadonlyMap<string, StoredFinding>,
  status: FindingStatus,
  metadata: (plan: RemediationPlan, current: StoredFinding) => Record<string, FindingValue>,
  from: readonly FindingStatus[] = ['open', 'failed', 'blocked'],
): Promise<void> {
  const changes = plans.flatMap((plan) => {
    const finding = findings.get(plan.findingKey);
    return finding ? [{ plan, finding, status, metadata: metadata(plan, finding) }] : [];
  });
  const raced = new Set((await services.store.findings.setStatusMany(services.tenantId, changes)).map((finding) => finding.key));
  for (const change of changes.filter((item) => raced.has(item.finding.key))) {
    await changeFinding(
      services.store,
      services.tenantId,
      change.plan,
      (current) => (current.episode === change.plan.episode && from.includes(current.status) ? { status, metadata: metadata(change.plan, current) } : undefined),
      () => new Date(),
    );
  }
}

async function runLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}
