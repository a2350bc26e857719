/**
 * Remediation, one use case per module:
 *
 *   plan-remediation   findings → queued changes and approval requests, within the blast radius
 *   decide-approval    a person approves (changes queued) or rejects (never asked again), once
 *   apply-change       a remediations message → the tenant call, recorded once
 *   verify-change      a verifications message → re-read, resolved only when the rule passes
 *   dead-letters       unreadable and poisoned messages recorded; a poisoned change fails
 *   licence-feedback   Exchange's licence refusals remembered, learned from, and forgotten
 *
 * The API, in the order a night uses it (the demo and the Teams work call exactly these):
 *
 *   const env = openRemediationEnvironment(settings, policy, { logger, credential? });   // app/remediation-environment.ts
 *   const report = await planRemediation(env.services, { requestedBy: `scan:${scanId}` });
 *       // report.enqueued, report.approvalRequests (ids, plans with .description), report.changes, report.advice
 *   await approve(env.services, requestIdOrFindingKey, approverUpn, note?);   // single use; queues the changes
 *   await reject(env.services, requestIdOrFindingKey, approverUpn, reason);   // single use; never asked again for the same change
 *   const drained = await drainQueues(env.worker, env.queues, { onProgress? });  // drain.ts: apply + verify in-process
 *       // drained.counts: applied, verified, blocked, failed, duplicate, rejected-message, recorded-poison, retried, ...
 *   env.approvals.get(tenantId, requestId) / list(tenantId, 'pending')       // what a Teams card shows
 *
 * In Azure the queue-triggered functions call env.worker instead of drainQueues.
 */
export type { RemediationServices } from './services';
export { planRemediation, type PlannedChange, type PlanningOptions, type PlanningReport } from './plan-remediation';
export { DEFAULT_APPROVAL_TTL_MS } from './approval-requests';
export { enqueuePlans } from './enqueue-plans';
export { approve, decideApproval, reject, type ApproveOptions, type DecisionReport } from './decide-approval';
export { RemediationRetryError, RemediationWorker, settleOrThrow } from './worker';
export type { RemediationWorkerDeps, RemediationWorkerOptions, WorkerDelivery, WorkerOutcome, WorkerResult } from './worker-context';
export { drainQueues, type DrainCounts, type DrainOptions, type DrainProgress, type DrainReport } from './drain';
