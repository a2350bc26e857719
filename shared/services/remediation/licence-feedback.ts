import { z } from 'zod';
import { describeError } from '../../errors';
import { resolveAdvancedAuditing } from '../../graph';
import { planObservation } from '../../lifecycle';
import { RemediationBlockedError } from '../../tenant/apply';
import type { RemediationPlan } from '../../remediation/plan';
import { addsLicenceGatedAction, addsMailItemsAccessed, BLOCKED_BY_LICENCE, blockedByLicenceRefusal, refusalHolds, type RefusalState } from '../../remediation/refusal';
import { RULES_BY_ID, evaluateMailbox, type MailboxRule } from '../../rules';
import type { StoredFinding } from '../../store/model';
import type { AuditStore } from '../../store/open';
import { changeFinding } from '../finding-changes';
import { clockOf, type RemediationServices } from './services';
import { ACTOR, type WorkerContext } from './worker-context';

/**
 * Licence feedback: what Exchange's answers teach the next attempt. A refusal of MailItemsAccessed
 * for want of a licence is remembered on the mailbox and opens the licence finding; while nothing
 * about the mailbox changed, the planner blocks the same addition and the worker does not send it
 * again. A verified licence fix, or Exchange accepting the action, forgets the refusal and retries
 * what it blocked. Which step of the licence fix is due next is licence-context.ts.
 */

/**
 * Reads a mailbox's recorded MailItemsAccessed refusal with what bears on whether it still holds
 * (remediation/refusal.ts): the capabilities the scan stored before the refusal and now. Only
 * mailboxes with a refusal cost more than the one point read.
 */
export async function readRefusal(store: Pick<AuditStore, 'mailboxes'>, tenantId: string, objectId: string): Promise<RefusalState | undefined> {
  const current = await store.mailboxes.current(tenantId, objectId);
  if (!current?.miaRefusedAt) return undefined;
  const [then, now] = await Promise.all([
    store.mailboxes.configurationAt(tenantId, objectId, new Date(current.miaRefusedAt)),
    store.mailboxes.latest(tenantId, objectId),
  ]);
  const capabilitiesAtRefusal = capabilitiesOf(then?.configuration);
  const capabilitiesNow = capabilitiesOf(now?.configuration);
  return {
    miaRefusedAt: current.miaRefusedAt,
    ...(current.miaRefusedReason ? { miaRefusedReason: current.miaRefusedReason } : {}),
    ...(capabilitiesAtRefusal ? { capabilitiesAtRefusal } : {}),
    ...(capabilitiesNow ? { capabilitiesNow } : {}),
  };
}

// A stored snapshot is our own JSON, but of whatever version wrote it: read only the one field, loosely.
const storedCapabilities = z.object({ persistedCapabilities: z.array(z.string()) }).loose();

function capabilitiesOf(configuration: unknown): string[] | undefined {
  const parsed = storedCapabilities.safeParse(configuration);
  return parsed.success ? parsed.data.persistedCapabilities : undefined;
}

/** One read per mailbox per planning run, however many of its findings ask. */
export class RefusalCache {
  private readonly cache = new Map<string, Promise<RefusalState | undefined>>();
  constructor(
    private readonly store: Pick<AuditStore, 'mailboxes'>,
    private readonly tenantId: string,
  ) {}

  get(objectId: string): Promise<RefusalState | undefined> {
    const key = objectId.toLowerCase();
    let value = this.cache.get(key);
    if (!value) {
      value = readRefusal(this.store, this.tenantId, objectId);
      this.cache.set(key, value);
      value.catch(() => this.cache.delete(key));
    }
    return value;
  }
}

/**
 * Exchange refused a licence-gated action (MailItemsAccessed, Send) for this mailbox before, and
 * nothing that bears on it changed since (remediation/refusal.ts): the change ends blocked
 * without being sent again. A message planned before the refusal was learned (another logon
 * type's, queued the same night) is caught here; the planner catches the rest.
 */
export async function refuseKnownRefusal(store: Pick<AuditStore, 'mailboxes'>, tenantId: string, plan: RemediationPlan): Promise<void> {
  if (plan.objectType !== 'mailbox' || !addsLicenceGatedAction(plan.change)) return;
  const refusal = await readRefusal(store, tenantId, plan.objectId);
  if (!refusalHolds(refusal)) return;
  throw new RemediationBlockedError(
    `Not sent: Exchange refused MailItemsAccessed for ${plan.userPrincipalName || plan.objectId} on ${refusal!.miaRefusedAt}, and nothing about the mailbox's licence has changed since.`,
    refusal!.miaRefusedReason,
    true,
  );
}

/** An addition Exchange refused before and would refuse again, as the planner found it. */
export interface RefusedEarlier {
  plan: RemediationPlan;
  finding: StoredFinding;
  reason: string;
}

/**
 * An addition Exchange refused for this mailbox and would refuse again: the finding is blocked
 * with Exchange's words, once, and nothing is queued (so no blast radius is spent on it).
 */
export async function blockAsRefusedEarlier(
  services: Pick<RemediationServices, 'tenantId' | 'store' | 'clock'>,
  item: RefusedEarlier,
  actor: string,
  now: Date,
): Promise<void> {
  const { plan, reason } = item;
  await changeFinding(
    services.store,
    services.tenantId,
    plan,
    (current) => {
      if (current.episode !== plan.episode || (current.status !== 'open' && current.status !== 'failed')) return undefined;
      return {
        status: 'blocked',
        metadata: { ...current.metadata, remediationKey: plan.idempotencyKey, remediationStage: 'refused-earlier', blockedBy: BLOCKED_BY_LICENCE, blockedAt: now.toISOString() },
        event: {
          type: 'blocked',
          actor,
          reason,
          details: {
            idempotencyKey: plan.idempotencyKey,
            change: plan.description,
            licenceRefusal: true,
            notSent: 'Exchange refused this for the mailbox before, and nothing about its licence has changed since',
          },
        },
      };
    },
    clockOf(services),
  );
}

/**
 * Exchange refused MailItemsAccessed for want of a licence it can see. Recorded on the mailbox
 * (the next scan's ScanMemory.mailItemsAccessedRefused), and the licence finding is opened now
 * when the licence rule, given the refusal, reports the group-licensing failure.
 */
export async function learnRefusal(ctx: WorkerContext, tenantId: string, plan: RemediationPlan, reason: string, at: Date): Promise<void> {
  const { store, tenant, policy, logger } = ctx.deps;
  await store.mailboxes.recordMailItemsAccessedRefusal(tenantId, plan.objectId, { at, reason, userPrincipalName: plan.userPrincipalName });
  try {
    const mailbox = await tenant.getMailbox(plan.objectId);
    const user = mailbox ? await tenant.getUser(mailbox.objectId) : undefined;
    if (!mailbox || !user || user.assignedLicenses.length === 0) return;
    const licence = resolveAdvancedAuditing(user, await tenant.skusWithAdvancedAuditing());
    const organization = await tenant.getOrganization();
    const evaluation = evaluateMailbox(
      { mailbox, licence, organization, policy, mailItemsAccessedRefused: true },
      at,
      [RULES_BY_ID['licence-inherited-blocks-mia'] as MailboxRule],
    );
    const observed = { tenantId, at, actor: ACTOR };
    for (const finding of evaluation.findings) {
      await store.findings.apply(tenantId, finding, (state) => planObservation(state, finding, undefined, observed));
    }
  } catch (error) {
    // The refusal is recorded; the next scan opens the licence finding if this could not.
    logger.warn('could not open the licence finding after a refusal', { tenantId, objectId: plan.objectId, error: describeError(error) });
  }
}

/**
 * What a verified change tells about the mailbox's licence: a licence fix (a direct assignment,
 * or the group assignments re-run) changed it, so the refusal is forgotten and what it blocked is
 * retried; MailItemsAccessed accepted means whatever Exchange refused before no longer holds.
 */
export async function learnFromVerifiedChange(ctx: WorkerContext, tenantId: string, plan: RemediationPlan, at: Date): Promise<void> {
  if (plan.change.kind === 'reprocess-licence' || plan.ruleId === 'licence-inherited-blocks-mia') await afterLicenceChanged(ctx, tenantId, plan, at);
  else if (addsMailItemsAccessed(plan.change)) await ctx.deps.store.mailboxes.clearMailItemsAccessedRefusal(tenantId, plan.objectId);
}

/** Forgets the refusal and retries, once, what it blocked: the retry is how Exchange tells whether it now applies the licence. */
async function afterLicenceChanged(ctx: WorkerContext, tenantId: string, plan: RemediationPlan, at: Date): Promise<void> {
  const { store } = ctx.deps;
  await store.mailboxes.clearMailItemsAccessedRefusal(tenantId, plan.objectId);
  const blocked = await store.findings.list(tenantId, { mailbox: plan.objectId, status: 'blocked' }, { pageSize: 100 });
  for (const finding of blocked.items.filter(blockedByLicenceRefusal)) {
    await changeFinding(
      store,
      tenantId,
      finding,
      (current) =>
        current.status === 'blocked'
          ? { status: 'open', metadata: { ...current.metadata, unblockedBy: plan.idempotencyKey, unblockedAt: at.toISOString() } }
          : undefined,
      ctx.clock,
    );
  }
}
