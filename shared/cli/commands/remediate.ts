import { userInfo } from 'node:os';
import { loadPolicy, type AuditPolicy } from '../../config/policy';
import { loadSettings, type Settings } from '../../config/settings';
import { canonicalRuleId, RULE_IDS, type RuleId } from '../../domain/finding';
import { ValidationError } from '../../errors';
import type { Logger } from '../../logging';
import { drainQueues, planRemediation, type DrainProgress, type DrainReport, type PlanningReport } from '../../services/remediation';
import { openRemediationEnvironment, type RemediationEnvironment } from '../../app/remediation-environment';
import { parseFlags } from '../args';
import { EXIT, stderrLogger, type CliCommand, type CliIO } from '../io';

const USAGE = `Usage: audit-warden remediate [--rule RULE] [--mailbox M] [--limit N] [--what-if] [--json] [--policy FILE] [--quiet]

Plans fixes for the recorded open (and failed) findings, queues the automatic ones, opens approval
requests for the rest, then applies and verifies what is queued, in this process (the same workers
the Functions app runs). Approve a request with "audit-warden approve <request-id>".

  --rule RULE   only this rule, e.g. mailbox-audit-disabled
  --mailbox M   only this mailbox, by object id or UPN
  --limit N     queue at most N automatic changes (most severe first); the rest wait for the next run
  --what-if     print the exact calls that would be made; change, queue and record nothing
  --json        one JSON document on stdout
  --policy FILE the audit policy file (default: AUDIT_POLICY_PATH, else the built-in policy)
  --quiet       no progress line on stderr

REMEDIATION_PAUSED=true stops every change: the plan is printed, nothing is queued or applied.
Exit codes: 0 done, 1 bad input or settings, 2 some change ended blocked or failed, 3 a service failed.`;

/** Builds the environment; tests pass one over their own tables and queues. */
export type RemediationEnvironmentFactory = (settings: Settings, policy: AuditPolicy, logger: Logger, io: CliIO) => RemediationEnvironment;

export const defaultEnvironmentFactory: RemediationEnvironmentFactory = (settings, policy, logger, io) =>
  openRemediationEnvironment(settings, policy, { logger, ...(io.credential ? { credential: io.credential } : {}) });

/** Who is at the keyboard: `--as`, else the operating-system user. */
export function operatorName(as: string | undefined, io: CliIO): string {
  if (as !== undefined) {
    if (as.trim() === '') throw new ValidationError('--as needs a name (the approver\'s UPN).', 'command line');
    return as.trim();
  }
  try {
    return userInfo().username;
  } catch {
    return io.env.USER ?? io.env.USERNAME ?? 'unknown';
  }
}

export function remediateCommand(openEnvironment: RemediationEnvironmentFactory = defaultEnvironmentFactory): CliCommand {
  return {
    name: 'remediate',
    summary: 'fix recorded drift: queue, apply and verify changes (or --what-if)',
    usage: USAGE,
    async run(args: string[], io: CliIO): Promise<number> {
      const { values } = parseFlags('remediate', args, {
        rule: { type: 'string' },
        mailbox: { type: 'string' },
        limit: { type: 'string' },
        'what-if': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        policy: { type: 'string' },
        quiet: { type: 'boolean', default: false },
      });
      const ruleId = values.rule === undefined ? undefined : parseRule(values.rule);
      if (values.mailbox !== undefined && values.mailbox.trim() === '') throw new ValidationError('--mailbox needs an object id or UPN.', 'command line');
      const limit = values.limit === undefined ? undefined : Number(values.limit);
      if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new ValidationError(`--limit must be a whole number of changes, at least 1; got "${values.limit}".`, 'command line');
      const settings = loadSettings(io.env);
      const policy = await loadPolicy(values.policy ?? settings.AUDIT_POLICY_PATH);
      const logger = stderrLogger(io);
      const environment = openEnvironment(settings, policy, { ...logger, info: () => undefined }, io);
      const whatIf = values['what-if'];

      const report = await planRemediation(environment.services, {
        requestedBy: `cli:${operatorName(undefined, io)}`,
        statuses: ['open', 'failed'],
        whatIf,
        ...(ruleId ? { ruleId } : {}),
        ...(values.mailbox ? { mailbox: values.mailbox.trim() } : {}),
        ...(limit !== undefined ? { limit } : {}),
      });
      if (whatIf || report.paused) {
        if (values.json) io.stdout.write(`${JSON.stringify(planJson(report))}\n`);
        else io.stdout.write(formatPlan(report));
        return EXIT.ok;
      }
      if (!values.json) io.stdout.write(formatPlan(report));

      const progress = values.quiet ? undefined : new DrainProgressLine(io, environment);
      const drained = await drainQueues(environment.worker, environment.queues, {
        logger,
        ...(progress ? { onProgress: (state: DrainProgress) => progress.update(state) } : {}),
      });
      progress?.finish();
      if (values.json) io.stdout.write(`${JSON.stringify({ ...planJson(report), applied: drainJson(drained, environment) })}\n`);
      else io.stdout.write(formatDrain(drained, environment));
      const unsuccessful = (drained.counts.blocked ?? 0) + (drained.counts.failed ?? 0) + (drained.counts['recorded-poison'] ?? 0);
      return unsuccessful > 0 || drained.timedOut ? EXIT.drift : EXIT.ok;
    },
  };
}

/** A rule id, or an earlier pack's name for one (retention-too-short is mailbox-audit-log-age-short now). */
function parseRule(value: string): RuleId {
  const rule = canonicalRuleId(value.trim());
  if (!rule) throw new ValidationError(`--rule: "${value}" is not a rule; rules: ${RULE_IDS.join(', ')}.`, 'command line');
  return rule;
}

function planJson(report: PlanningReport) {
  return {
    tenantId: report.tenantId,
    whatIf: report.whatIf,
    paused: report.paused,
    changes: report.changes.map(({ plan, mode, approvalReason }) => ({
      findingKey: plan.findingKey,
      ruleId: plan.ruleId,
      userPrincipalName: plan.userPrincipalName,
      mode,
      call: plan.description,
      ...(approvalReason ? { approvalReason } : {}),
      idempotencyKey: plan.idempotencyKey,
    })),
    advice: report.advice,
    enqueued: report.enqueued,
    approvalRequests: report.approvalRequests.map((request) => ({ requestId: request.requestId, reason: request.reason, changes: request.plans.length, expiresAt: request.expiresAt.toISOString() })),
    rejectedEarlier: report.rejectedEarlier,
    refusedEarlier: report.refusedEarlier,
    retriedAfterLicenceChange: report.retriedAfterLicenceChange,
    deferred: report.deferred,
    blastRadius: report.blastRadius,
  };
}

function formatPlan(report: PlanningReport): string {
  const lines: string[] = [];
  const header = report.whatIf ? ' (what-if: nothing was changed, queued or recorded)' : report.paused ? ' (REMEDIATION_PAUSED: nothing was queued or applied)' : '';
  lines.push(`Remediation plan for tenant ${report.tenantId}${header}`);
  const width = Math.max(0, ...report.changes.map((change) => change.plan.findingKey.length));
  for (const { plan, mode, approvalReason } of report.changes) {
    // A licence assignment's description runs over several lines (body, SKU, plans kept off): indent them under the call.
    const description = plan.description.replace(/\n/g, `\n${' '.repeat(14 + width)}`);
    lines.push(`  ${mode.padEnd(8)}  ${plan.findingKey.padEnd(width)}  ${description}${approvalReason && mode === 'approval' ? `  [${approvalReason}]` : ''}`);
  }
  const by = (mode: string) => report.changes.filter((change) => change.mode === mode).length;
  lines.push(
    '',
    `  ${report.changes.length} changes: ${by('auto')} automatic, ${by('approval')} for approval, ${by('report')} report only; ${report.advice.length} findings with advice only${report.rejectedEarlier ? `; ${report.rejectedEarlier} rejected earlier (not asked again)` : ''}${report.refusedEarlier ? `; ${report.refusedEarlier} refused by Exchange earlier for want of a licence (not sent again, now blocked)` : ''}${report.retriedAfterLicenceChange ? `; ${report.retriedAfterLicenceChange} blocked earlier, retried because the mailbox's licence changed` : ''}${report.deferred ? `; ${report.deferred} left for a later run (--limit)` : ''}`,
    `  blast radius: ${report.blastRadius.granted} of ${report.blastRadius.limit} automatic changes tonight (${report.blastRadius.usedBefore} used before)${report.blastRadius.overflow ? `, ${report.blastRadius.overflow} over the limit sent for approval` : ''}`,
  );
  if (!report.whatIf && !report.paused) {
    lines.push(`  queued: ${report.enqueued}`);
    for (const request of report.approvalRequests) {
      lines.push(`  approval request ${request.requestId} (${request.plans.length} change${request.plans.length === 1 ? '' : 's'}; ${request.reason}): audit-warden approve ${request.requestId}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function drainJson(report: DrainReport, environment: RemediationEnvironment) {
  return { ...report.counts, handled: report.handled, timedOut: report.timedOut, remaining: report.remaining, wallMs: report.wallMs, apiCalls: environment.usage.calls, throttled: environment.usage.throttled };
}

function formatDrain(report: DrainReport, environment: RemediationEnvironment): string {
  const c = report.counts;
  const lines = [
    `Applied ${(c.applied ?? 0) + (c['already-in-place'] ?? 0)} changes, verified ${c.verified ?? 0}; ${c.blocked ?? 0} blocked, ${c.failed ?? 0} failed, ${c['recorded-poison'] ?? 0} gave up after retries, ${c.skipped ?? 0} skipped, ${c['rejected-message'] ?? 0} unreadable messages recorded`,
    `  ${(report.wallMs / 1000).toFixed(1)} s · ${environment.usage.calls} API calls (${environment.usage.throttled} throttled) · ${c.retried ?? 0} retries`,
  ];
  if (report.timedOut) lines.push(`  stopped after the time limit with ${report.remaining} messages still queued; run again to continue`);
  if ((c.blocked ?? 0) + (c.failed ?? 0) > 0) lines.push('  see why: audit-warden findings --status blocked (or failed), and audit-warden history --mailbox <M>');
  return `${lines.join('\n')}\n`;
}

class DrainProgressLine {
  private lastPlain = 0;
  private drawn = false;
  constructor(
    private readonly io: CliIO,
    private readonly environment: RemediationEnvironment,
  ) {}
  update(state: DrainProgress): void {
    const c = state.counts;
    const text = `remediate: applied ${(c.applied ?? 0) + (c['already-in-place'] ?? 0)} · verified ${c.verified ?? 0} · blocked ${c.blocked ?? 0} · failed ${c.failed ?? 0} · retries ${c.retried ?? 0} · in flight ${state.inFlight} · API calls ${this.environment.usage.calls} (${this.environment.usage.throttled} throttled)`;
    if (this.io.stderr.isTTY) {
      this.io.stderr.write(`\r\x1b[2K${text}`);
      this.drawn = true;
    } else if (Date.now() - this.lastPlain >= 5000) {
      this.io.stderr.write(`${text}\n`);
      this.lastPlain = Date.now();
    }
  }
  finish(): void {
    if (this.drawn) this.io.stderr.write('\n');
  }
}
