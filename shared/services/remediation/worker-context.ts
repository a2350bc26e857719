import type { AuditPolicy } from '../../config/policy';
import type { FindingValue } from '../../domain/finding';
import type { Logger } from '../../logging';
import type { QueueDelivery, QueueGateway } from '../../queue';
import type { RemediationPlan } from '../../remediation/plan';
import type { RemediationTenant } from '../../tenant/gateway';
import { evaluateTarget, type TargetState } from '../../tenant/verify';
import { isActiveStatus, type DriftEventType, type FindingStatus } from '../../store/model';
import type { AuditStore } from '../../store/open';
import type { RemediationRepository } from '../../store/remediations';
import { changeFinding } from '../finding-changes';

/**
 * What the queue-side use cases (apply-change, verify-change, dead-letters) share: their
 * dependencies, the outcome they hand back to the queue adapter, and the two steps all of them
 * take — re-reading the changed object, and recording a step on the finding exactly once.
 */

/** How the queue delivered a message: the Functions trigger metadata, or the in-process drain. */
export type WorkerDelivery = QueueDelivery;

export type WorkerResult =
  | 'applied'
  | 'already-in-place'
  | 'verified'
  | 'verify-again'
  | 'blocked'
  | 'failed'
  | 'skipped'
  | 'cancelled'
  | 'duplicate'
  | 'rejected-message'
  | 'recorded-poison';

/**
 * What to do with the message: `done` (delete it) or `retry` (deliver it again after `delayMs`:
 * the Functions adapter throws so the host redelivers; the in-process drain hides the message).
 */
export type WorkerOutcome = { kind: 'done'; result: WorkerResult; detail?: string } | { kind: 'retry'; delayMs: number; reason: string };

export interface RemediationWorkerOptions {
  /** How long a claim keeps other messages for the same change away (a live apply; its own redelivery may take it back at once). */
  leaseMs?: number;
  /** Delay before the first verification: Exchange may take a moment to show a change. */
  verifyDelaySeconds?: number;
  /** Delay between verification attempts that still see the drift. */
  verifyRetryDelaySeconds?: number;
  /** Checks before a change that does not show is recorded as failed. */
  maxVerifyAttempts?: number;
  /** Delay before a transient failure (throttling, outage) is tried again. */
  transientRetryMs?: number;
}

export interface RemediationWorkerDeps {
  /** The tenant this app serves; a message for another tenant is refused and recorded. */
  tenantId: string;
  policy: AuditPolicy;
  /** REMEDIATION_PAUSED: messages already queued are cancelled (recorded), nothing is applied. */
  paused: boolean;
  store: AuditStore;
  remediations: RemediationRepository;
  queues: QueueGateway;
  tenant: RemediationTenant;
  logger: Logger;
  clock?: () => Date;
  options?: RemediationWorkerOptions;
  /** Test seam: runs after the tenant call and before anything is recorded (a crash there must converge). */
  afterApply?: (plan: RemediationPlan) => void | Promise<void>;
}

/** The deps with their defaults filled in, as every queue-side use case takes them. */
export interface WorkerContext {
  deps: RemediationWorkerDeps;
  clock: () => Date;
  options: Required<RemediationWorkerOptions>;
}

/** The actor of drift events the apply step and the dead letters record. */
export const ACTOR = 'audit-warden:remediation';
/** The actor of drift events the verification records. */
export const VERIFIER = 'audit-warden:verification';

export function workerContext(deps: RemediationWorkerDeps): WorkerContext {
  return {
    deps,
    clock: deps.clock ?? (() => new Date()),
    options: {
      leaseMs: 5 * 60_000,
      verifyDelaySeconds: 15,
      verifyRetryDelaySeconds: 60,
      maxVerifyAttempts: 3,
      transientRetryMs: 5_000,
      ...definedOnly(deps.options ?? {}),
    },
  };
}

/** Re-reads the object the plan changes and runs its rule again (remediation/verify.ts). */
export function targetState(ctx: WorkerContext, plan: RemediationPlan): Promise<TargetState> {
  const { deps } = ctx;
  return evaluateTarget(plan, {
    tenant: deps.tenant,
    policy: deps.policy,
    now: ctx.clock(),
    mailItemsAccessedRefused: async (objectId) => Boolean((await deps.store.mailboxes.current(deps.tenantId, objectId))?.miaRefusedAt),
  });
}

/**
 * Moves the finding to `status` with one drift event, once: the stage and key in the finding's
 * metadata are written with the event (one ETag-guarded row write), so a redelivery sees it.
 * A finding of another episode, or no longer active (a scan resolved it), is left alone.
 */
export async function recordFinding(
  ctx: WorkerContext,
  tenantId: string,
  plan: RemediationPlan,
  stage: string,
  status: FindingStatus,
  event: { type: DriftEventType; actor: string; reason: string; details: Record<string, unknown> },
  metadata: Record<string, FindingValue> = {},
): Promise<void> {
  await changeFinding(
    ctx.deps.store,
    tenantId,
    plan,
    (current) => {
      if (current.episode !== plan.episode || !isActiveStatus(current.status)) return undefined;
      if (current.metadata.remediationKey === plan.idempotencyKey && current.metadata.remediationStage === stage) return undefined;
      return {
        status,
        metadata: { ...current.metadata, ...metadata, remediationKey: plan.idempotencyKey, remediationStage: stage },
        event: { ...event, at: ctx.clock() },
      };
    },
    ctx.clock,
  );
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as Partial<T>;
}
