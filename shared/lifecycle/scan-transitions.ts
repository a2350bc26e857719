import type { PolicyException } from '../config/policy';
import { findingKey, type Finding } from '../domain/finding';
import { detailHashOf } from './detail-hash';
import { driftEvent } from './drift-event';
import type { FindingState, TransitionContext } from './finding-state';
import type { FindingUpdate, Transition } from './transition';
import { isActiveStatus, type FindingStatus } from './status';

/**
 * What a scan's observation of a finding changes. Opening (or re-opening after it closed) starts
 * an episode with a `detected` or `excepted` event; an active finding only changes on a move into
 * or out of an exception, or when its details change (no event: nothing started or ended).
 * Remediation statuses (awaiting-approval, remediating, failed, blocked) are left alone while the
 * drift lasts. Undefined: nothing to write.
 */
export function planObservation(
  current: FindingState | undefined,
  finding: Finding,
  exception: PolicyException | undefined,
  ctx: TransitionContext,
): Transition | undefined {
  const detailHash = detailHashOf(finding, exception);
  const observed: FindingUpdate['observed'] = { finding, ...(exception ? { exception } : {}), detailHash };
  const base: FindingState = {
    key: findingKey(finding),
    ruleId: finding.ruleId,
    objectType: finding.objectType,
    objectId: finding.objectId,
    upn: finding.userPrincipalName,
    ...(finding.logonType ? { logonType: finding.logonType } : {}),
    severity: finding.severity,
    status: current?.status ?? 'open',
    firstSeen: current?.firstSeen ?? ctx.at.toISOString(),
    episode: current?.episode ?? 0,
    seq: current?.seq ?? 0,
    episodeStartSeq: current?.episodeStartSeq ?? 0,
    detailHash,
  };
  const details = {
    expected: finding.expected,
    actual: finding.actual,
    ...(finding.error ? { error: finding.error } : {}),
    ...(exception ? { expires: exception.expires } : {}),
  };

  if (!current || !isActiveStatus(current.status)) {
    // First sight, or back after it closed: a new episode, numbered on from the last one.
    const seq = base.seq + 1;
    const status: FindingStatus = exception ? 'excepted' : 'open';
    const next: FindingState = { ...base, status, firstSeen: ctx.at.toISOString(), episode: base.episode + 1, seq, episodeStartSeq: seq };
    return {
      create: !current,
      update: { updatedAt: ctx.at, observed, status, seq, episode: { number: next.episode, firstSeen: ctx.at, startSeq: seq } },
      event: driftEvent(next, seq, exception ? 'excepted' : 'detected', ctx, { reason: exception?.reason, details }),
      next,
    };
  }

  const intoException = exception !== undefined && current.status !== 'excepted';
  const outOfException = exception === undefined && current.status === 'excepted';
  if (intoException || outOfException) {
    const seq = current.seq + 1;
    const status: FindingStatus = intoException ? 'excepted' : 'open';
    const next: FindingState = { ...base, status, seq };
    return {
      create: false,
      update: { updatedAt: ctx.at, observed, status, seq },
      event: driftEvent(next, seq, intoException ? 'excepted' : 'detected', ctx, {
        reason: intoException ? exception?.reason : 'the policy exception expired or was removed',
        details,
      }),
      next,
    };
  }

  if (detailHash !== current.detailHash) return { create: false, update: { updatedAt: ctx.at, observed }, next: base };
  return undefined;
}

/**
 * A completed scan no longer sees the finding (`resolved`) or its object at all (`gone`). Only a
 * completed scan may call this: an interrupted one has not looked everywhere. `lastSeen` is the
 * start of the last completed scan that still saw it.
 */
export function planClose(current: FindingState | undefined, kind: 'resolved' | 'gone', lastSeen: Date, ctx: TransitionContext): Transition | undefined {
  if (!current || !isActiveStatus(current.status)) return undefined;
  const seq = current.seq + 1;
  const next: FindingState = { ...current, status: kind, seq };
  return {
    create: false,
    update: { updatedAt: ctx.at, status: kind, seq, closed: { at: ctx.at, lastSeen } },
    event: driftEvent(next, seq, kind, ctx, {
      details: { lastSeen: lastSeen.toISOString(), previousStatus: current.status },
      ...(kind === 'gone' ? { reason: 'the object no longer exists in the tenant' } : {}),
    }),
    next,
  };
}
