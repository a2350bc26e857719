import auditActions from './audit-actions.json';
import type { AuditPolicy, PolicyException } from '../config/policy';
import { LOGON_TYPES, MAIL_ITEMS_ACCESSED, type LogonType } from '../domain/audit';
import type { RuleId } from '../domain/finding';

/**
 * Actions that were Audit (Premium)-only before 2024 (MailItemsAccessed, Send, SearchQueryInitiated):
 * a policy with mailItemsAccessedScope "advanced-auditing" requires them only from Premium users.
 */
export const ADVANCED_AUDITING_SCOPED_ACTIONS: ReadonlySet<string> = new Set(auditActions.advancedAuditingScoped);

/** Actions Exchange accepts but reportedly does not log (REFERENCE.md §0): requiring them proves nothing. */
export const ACCEPTED_BUT_NOT_LOGGED: Readonly<Record<string, string>> = {
  MailboxLogin: 'Exchange accepts MailboxLogin for Owner but reportedly does not log it (Microsoft, 2023), so requiring it proves nothing',
};

/** What each logon type accepts, Microsoft's managed set, and the extended preset (audit-actions.json). */
export const VALID_ACTIONS: Readonly<Record<LogonType, readonly string[]>> = auditActions.valid;
export const MICROSOFT_DEFAULT_ACTIONS: Readonly<Record<LogonType, readonly string[]>> = auditActions.default;
export const EXTENDED_PRESET_ACTIONS: Readonly<Record<LogonType, readonly string[]>> = auditActions.extendedPreset.required;

/** The actions a policy requires for one logon type, for mailboxes with or without premium actions. */
export interface RequiredActions {
  /** Every required action, sorted; includes MailItemsAccessed when premium actions are required. */
  readonly all: readonly string[];
  /** `all` without MailItemsAccessed, which has its own rule. */
  readonly withoutMailItemsAccessed: readonly string[];
  /**
   * Some required action is outside Microsoft's managed set, so the policy itself forces this logon
   * type out of DefaultAuditSet (adding an action customises the logon type).
   */
  readonly customisationRequired: boolean;
}

export interface CompiledException {
  readonly exception: PolicyException;
  /** Lower-cased `object`; '*' matches every object. */
  readonly object: string;
  /** Epoch ms from which the exception no longer applies (NaN never applies). */
  readonly expiresAt: number;
}

/** Per-policy lookups, built once so that evaluating 100,000 mailboxes allocates almost nothing. */
export interface CompiledPolicy {
  readonly policy: AuditPolicy;
  readonly mailboxTypes: ReadonlySet<string>;
  readonly requiredStandard: Readonly<Record<LogonType, RequiredActions>>;
  readonly requiredPremium: Readonly<Record<LogonType, RequiredActions>>;
  /** Exceptions by rule, in policy order. Rules without exceptions are absent. */
  readonly exceptions: ReadonlyMap<RuleId, readonly CompiledException[]>;
  /**
   * Actions in `requiredActions.additional` that the logon type does not accept (audit-actions.json
   * `valid`). They are never required — Exchange would refuse them and the finding could never be
   * fixed — so the scan service should warn about them once per scan.
   */
  readonly ignoredAdditionalActions: Readonly<Record<LogonType, readonly string[]>>;
  /** What a person should know about this policy (printed once per scan): e.g. actions that are not logged. */
  readonly notes: readonly string[];
}

const DAY_MS = 24 * 60 * 60 * 1000;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * When an exception stops applying. A date-only `expires` ("2026-03-31") is read as the end of
 * that day in UTC, because a person writing a date means "through that day".
 */
export function exceptionExpiresAt(expires: string): number {
  return DATE_ONLY.test(expires) ? Date.parse(`${expires}T00:00:00Z`) + DAY_MS : Date.parse(expires);
}

// Policies are parsed once and treated as immutable, so identity is a safe memo key; a WeakMap
// lets a reloaded policy's lookups be collected with it.
const compiled = new WeakMap<AuditPolicy, CompiledPolicy>();

export function compilePolicy(policy: AuditPolicy): CompiledPolicy {
  let result = compiled.get(policy);
  if (!result) {
    result = build(policy);
    compiled.set(policy, result);
  }
  return result;
}

/**
 * The actions the policy requires for a logon type, sorted. `premiumRequired` comes from
 * `premiumActionsRequired`: without it, the actions scoped to Audit (Premium) users (MailItemsAccessed,
 * Send, SearchQueryInitiated) are left out, as a policy with mailItemsAccessedScope "advanced-auditing" asks.
 */
export function requiredActionsFor(policy: AuditPolicy, logonType: LogonType, premiumRequired: boolean): readonly string[] {
  const lookups = compilePolicy(policy);
  return (premiumRequired ? lookups.requiredPremium : lookups.requiredStandard)[logonType].all;
}

function build(policy: AuditPolicy): CompiledPolicy {
  const preset = policy.requiredActions.preset === 'extended' ? EXTENDED_PRESET_ACTIONS : MICROSOFT_DEFAULT_ACTIONS;
  const requiredStandard = {} as Record<LogonType, RequiredActions>;
  const requiredPremium = {} as Record<LogonType, RequiredActions>;
  const ignoredAdditionalActions = {} as Record<LogonType, readonly string[]>;

  for (const logonType of LOGON_TYPES) {
    const canonical = new Map(VALID_ACTIONS[logonType].map((action) => [action.toLowerCase(), action]));
    const additional: string[] = [];
    const ignored: string[] = [];
    for (const action of policy.requiredActions.additional[logonType] ?? []) {
      // Exchange's action names are case-insensitive; store the spelling Exchange returns.
      const name = canonical.get(action.trim().toLowerCase());
      if (name) additional.push(name);
      else ignored.push(action);
    }
    ignoredAdditionalActions[logonType] = ignored;
    const wanted = [...preset[logonType], ...additional];
    requiredStandard[logonType] = requiredActions(logonType, wanted.filter((action) => !ADVANCED_AUDITING_SCOPED_ACTIONS.has(action)));
    requiredPremium[logonType] = requiredActions(logonType, wanted);
  }

  const exceptions = new Map<RuleId, CompiledException[]>();
  for (const exception of policy.exceptions) {
    const list = exceptions.get(exception.rule) ?? [];
    list.push({ exception, object: exception.object.trim().toLowerCase(), expiresAt: exceptionExpiresAt(exception.expires) });
    exceptions.set(exception.rule, list);
  }

  const notes: string[] = [];
  for (const [action, note] of Object.entries(ACCEPTED_BUT_NOT_LOGGED)) {
    const where = LOGON_TYPES.filter((type) => requiredPremium[type].all.includes(action));
    if (where.length > 0) notes.push(`The policy requires ${action} for ${where.join(', ')}: ${note}.`);
  }

  return {
    policy,
    notes,
    mailboxTypes: new Set(policy.mailboxTypes),
    requiredStandard,
    requiredPremium,
    exceptions,
    ignoredAdditionalActions,
  };
}

function requiredActions(logonType: LogonType, actions: string[]): RequiredActions {
  const all = [...new Set(actions)].sort();
  const managed = MICROSOFT_DEFAULT_ACTIONS[logonType];
  return {
    all,
    withoutMailItemsAccessed: all.filter((action) => action !== MAIL_ITEMS_ACCESSED),
    customisationRequired: all.some((action) => !managed.includes(action)),
  };
}
