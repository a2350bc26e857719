import { loadPolicy } from '../../config/policy';
import { loadSettings } from '../../config/settings';
import { ValidationError } from '../../errors';
import { approve, drainQueues, reject, type DecisionReport } from '../../services/remediation';
import { parseFlags } from '../args';
import { EXIT, stderrLogger, type CliCommand, type CliIO } from '../io';
import { defaultEnvironmentFactory, operatorName, type RemediationEnvironmentFactory } from './remediate';

const APPROVE_USAGE = `Usage: audit-warden approve <request-id | finding-key> [--as UPN] [--note TEXT] [--apply] [--json]

Approves a pending approval request, once, and queues its changes; records an "approved" drift event
with the approver. A finding key (rule|object[|logonType]) names the request of that one finding.
Until the Teams approval lands this is how approvals are given.

  --as UPN     the approver (default: the operating-system user)
  --note TEXT  kept with the decision
  --apply      apply and verify the queued changes now, in this process (otherwise the Functions
               app, or the next "audit-warden remediate", does)

Exit codes: 0 approved, 1 no such request, already decided or expired, 3 a service failed.`;

const REJECT_USAGE = `Usage: audit-warden reject <request-id | finding-key> --reason "…" [--as UPN] [--json]

Rejects a pending approval request, once: nothing is changed, a "rejected" drift event records who
and why, and the same change is not asked for again (add a policy exception to silence the finding).

Exit codes: 0 rejected, 1 no such request, already decided, expired or no reason, 3 a service failed.`;

export function approveCommand(openEnvironment: RemediationEnvironmentFactory = defaultEnvironmentFactory): CliCommand {
  return {
    name: 'approve',
    summary: 'approve a pending remediation request (queues its changes)',
    usage: APPROVE_USAGE,
    async run(args: string[], io: CliIO): Promise<number> {
      const { values, positionals } = parseFlags(
        'approve',
        args,
        { as: { type: 'string' }, note: { type: 'string' }, apply: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } },
        true,
      );
      const target = onePositional('approve', positionals);
      const approver = operatorName(values.as, io);
      const settings = loadSettings(io.env);
      const policy = await loadPolicy(settings.AUDIT_POLICY_PATH);
      const logger = stderrLogger(io);
      const environment = openEnvironment(settings, policy, { ...logger, info: () => undefined }, io);
      const decision = await approve(environment.services, target, approver, values.note);
      let applied: Record<string, unknown> | undefined;
      if (values.apply && decision.enqueued > 0) {
        const drained = await drainQueues(environment.worker, environment.queues, { logger });
        applied = { ...drained.counts, wallMs: drained.wallMs };
      }
      if (values.json) io.stdout.write(`${JSON.stringify({ ...decisionJson(decision), ...(applied ? { applied } : {}) })}\n`);
      else {
        io.stdout.write(formatDecision(decision));
        if (applied) io.stdout.write(`  applied: ${JSON.stringify(applied)}\n`);
      }
      return EXIT.ok;
    },
  };
}

export function rejectCommand(openEnvironment: RemediationEnvironmentFactory = defaultEnvironmentFactory): CliCommand {
  return {
    name: 'reject',
    summary: 'reject a pending remediation request, with a reason',
    usage: REJECT_USAGE,
    async run(args: string[], io: CliIO): Promise<number> {
      const { values, positionals } = parseFlags('reject', args, { as: { type: 'string' }, reason: { type: 'string' }, json: { type: 'boolean', default: false } }, true);
      const target = onePositional('reject', positionals);
      if (!values.reason || values.reason.trim() === '') throw new ValidationError('reject: --reason "…" is required; it is kept in the drift history.', 'command line');
      const approver = operatorName(values.as, io);
      const settings = loadSettings(io.env);
      const policy = await loadPolicy(settings.AUDIT_POLICY_PATH);
      const environment = openEnvironment(settings, policy, { ...stderrLogger(io), info: () => undefined }, io);
      const decision = await reject(environment.services, target, approver, values.reason.trim());
      io.stdout.write(values.json ? `${JSON.stringify(decisionJson(decision))}\n` : formatDecision(decision));
      return EXIT.ok;
    },
  };
}

function onePositional(command: string, positionals: string[]): string {
  if (positionals.length !== 1) throw new ValidationError(`${command}: give exactly one request id or finding key.`, 'command line');
  return positionals[0]!;
}

function decisionJson(decision: DecisionReport) {
  const { request } = decision;
  return {
    requestId: request.requestId,
    status: request.status,
    decidedBy: request.decidedBy,
    decidedAt: request.decidedAt?.toISOString(),
    ...(request.decisionReason ? { reason: request.decisionReason } : {}),
    changes: request.plans.map((plan) => ({ findingKey: plan.findingKey, call: plan.description })),
    enqueued: decision.enqueued,
    skipped: decision.skipped,
    paused: decision.paused,
  };
}

function formatDecision(decision: DecisionReport): string {
  const { request } = decision;
  const lines = [`Request ${request.requestId} ${request.status} by ${request.decidedBy ?? '?'} at ${request.decidedAt?.toISOString() ?? '?'}`];
  for (const plan of request.plans) lines.push(`  ${plan.findingKey}  ${plan.description}`);
  if (request.status === 'approved') {
    lines.push(
      decision.paused
        ? '  REMEDIATION_PAUSED is set: the decision is recorded; the changes are queued by the first planning run after the pause.'
        : `  queued ${decision.enqueued} change${decision.enqueued === 1 ? '' : 's'}`,
    );
  }
  if (decision.skipped.length > 0) lines.push(`  not applied (the finding moved on meanwhile): ${decision.skipped.join(', ')}`);
  return `${lines.join('\n')}\n`;
}
