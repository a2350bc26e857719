import { createHash } from 'node:crypto';
import type { RemediationPlan } from '../../remediation/plan';
import type { ApprovalRequest } from '../../store/approvals';
import type { StoredFinding } from '../../store/model';
import { setStatuses } from './enqueue-plans';
import { findingsWith, type RemediationServices } from './services';

/**
 * The planning side of approval requests: opening one for the changes that wait for a person, and
 * giving back to planning the findings of requests nobody decided in time. Deciding one is
 * decide-approval.ts.
 */

export const DEFAULT_APPROVAL_TTL_MS = 72 * 60 * 60 * 1000;

type RequestServices = Pick<RemediationServices, 'tenantId' | 'store' | 'approvals' | 'approvalTtlMs'>;

/**
 * Opens one request for `plans` and marks their findings `awaiting-approval`. Its id is a digest of
 * the tenant, the day and the changes, so planning the same changes again the same day (after a run
 * that stopped half-way) finds the same request rather than opening a second.
 */
export async function openRequest(
  services: RequestServices,
  plans: RemediationPlan[],
  reason: string,
  createdBy: string,
  now: Date,
  findings: ReadonlyMap<string, StoredFinding>,
): Promise<ApprovalRequest> {
  const day = now.toISOString().slice(0, 10);
  const digest = createHash('sha256')
    .update([services.tenantId, day, ...plans.map((plan) => plan.idempotencyKey).sort()].join('\n'))
    .digest('hex')
    .slice(0, 24);
  const request = await services.approvals.create({
    tenantId: services.tenantId,
    requestId: `apr-${digest}`,
    reason,
    createdAt: now,
    expiresAt: new Date(now.getTime() + (services.approvalTtlMs ?? DEFAULT_APPROVAL_TTL_MS)),
    createdBy,
    plans,
  });
  await setStatuses(
    services,
    plans,
    findings,
    'awaiting-approval',
    (plan, current) => ({ ...current.metadata, approvalId: request.requestId, remediationKey: plan.idempotencyKey }),
    ['open', 'failed', 'blocked'],
  );
  return request;
}

/**
 * Expires pending requests past their expiry, and gives back to planning every finding still
 * waiting on a request that is no longer pending (expired here or by a late decision, or left
 * half-done by a stopped process). Returns how many requests it expired.
 */
export async function expireRequests(services: RequestServices, now: Date): Promise<number> {
  let expired = 0;
  for (const request of await services.approvals.list(services.tenantId, 'pending')) {
    if (request.expiresAt.getTime() > now.getTime()) continue;
    if ((await services.approvals.expire(request, now)).status === 'expired') expired += 1;
  }
  const requests = new Map<string, Promise<ApprovalRequest | undefined>>();
  for await (const finding of findingsWith(services, 'awaiting-approval', {})) {
    const requestId = finding.metadata.approvalId;
    if (typeof requestId !== 'string') continue;
    if (!requests.has(requestId)) requests.set(requestId, services.approvals.get(services.tenantId, requestId));
    const request = await requests.get(requestId)!;
    if (request?.status === 'pending') continue;
    await services.store.findings.update(services.tenantId, finding, (current) =>
      current.status === 'awaiting-approval' && current.metadata.approvalId === requestId
        ? { status: 'open', metadata: { ...current.metadata, approvalId: null } }
        : undefined,
    );
  }
  return expired;
}
