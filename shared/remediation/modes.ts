import type { AuditPolicy } from '../config/policy';
import type { RemediationMode, RuleId } from '../domain/finding';
import { modeFor, RULE_METADATA } from '../rules/pack';

/**
 * The mode a rule's plans run in. The policy decides (`modeFor`), with one floor: a licence change
 * is never automatic, whatever the policy says, because it can consume a paid seat.
 */
export function effectiveMode(policy: AuditPolicy, ruleId: RuleId): RemediationMode {
  const mode = modeFor(policy, ruleId);
  return mode === 'auto' && RULE_METADATA[ruleId].licenceChange ? 'approval' : mode;
}

/** Orders plans so that, when the blast radius limit cuts a night short, the worst drift goes first. */
export const SEVERITY_ORDER = { critical: 0, high: 1, medium: 2, low: 3 } as const;

export interface BlastRadiusSplit<T> {
  /** Applied without asking: at most `remaining` of them. */
  auto: T[];
  /** Over the night's limit: they wait for a person. */
  overflow: T[];
}

/**
 * Applies the per-night limit: the first `remaining` auto plans (already sorted by the caller) stay
 * automatic, the rest turn into approval requests. A limit of 0 sends everything to approval.
 */
export function splitByBlastRadius<T>(sorted: readonly T[], remaining: number): BlastRadiusSplit<T> {
  const budget = Math.max(0, remaining);
  return { auto: sorted.slice(0, budget), overflow: sorted.slice(budget) };
}
