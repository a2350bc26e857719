import type { AuditPolicy } from '../config/policy';
import type { ChangeKind, RemediationMode, RuleId } from '../domain/finding';
import { modeFor, RULE_METADATA } from '../rules/pack';

/**
 * The mode a change runs in. The policy decides (`modeFor`), with a floor for licence changes,
 * which can consume a paid seat or switch services on: never automatic, whatever the policy says.
 * Two change kinds are decided by kind rather than by rule:
 * - `reprocess-licence` re-runs the user's group assignments: it changes no plan and takes no seat,
 *   so it runs in policy.licenceReprocessMode (default auto) and the floor does not apply — unless
 *   the policy puts the rule itself in report mode, which always wins (nothing is changed).
 * - `assign-licence` is always approved by a person (or only reported, if the rule is in report
 *   mode): a direct licence outlives group membership and is not something to do unattended.
 */
export function effectiveMode(policy: AuditPolicy, ruleId: RuleId, changeKind?: ChangeKind): RemediationMode {
  const mode = modeFor(policy, ruleId);
  if (changeKind === 'reprocess-licence') return policy.modes[ruleId] === 'report' ? 'report' : policy.licenceReprocessMode;
  if (changeKind === 'assign-licence') return mode === 'report' ? 'report' : 'approval';
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
