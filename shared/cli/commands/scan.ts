import { loadPolicy } from '../../config/policy';
import { loadSettings } from '../../config/settings';
import type { Finding, RuleId } from '../../domain/finding';
import { RULE_IDS } from '../../domain/finding';
import { ruleMetadata } from '../../rules';
import { coverageFigure, formatCoverageCounts, formatCoverageHeadline } from '../../rules/coverage';
import { buildApp } from '../../app/app';
import type { EnvironmentOptions } from '../../app/scan-environment';
import { runNight } from '../../services/night';
import type { ScanProgress, ScanResult } from '../../services/scan';
import type { ScanNotifier } from '../../services/teams-digest';
import { parseFlags } from '../args';
import { EXIT, stderrLogger, type CliCommand, type CliIO } from '../io';

const USAGE = `Usage: audit-warden scan [--json] [--no-store] [--no-plan] [--no-notify] [--policy FILE] [--quiet]

The nightly job, on demand: reads every mailbox's audit configuration (Exchange Online), the users'
licences (Graph) and the audit bypass associations, evaluates the drift rules, records what changed,
plans the fixes (automatic ones onto the remediations queue, approval requests for the rest) and
posts the Teams digest. Prints the coverage figure and a summary per rule.

  --json        write one JSON document to stdout: {"findings": [...], "scan": {...}}
  --no-store    read-only: record nothing in Table Storage (and plan and post nothing)
  --no-plan     record, but plan no fix (audit-warden remediate plans and applies them)
  --no-notify   do not post the digest card to Teams (posted after a stored scan when
                TEAMS_WEBHOOK_URL is set; a failed post is reported and does not fail the scan)
  --policy FILE the audit policy file (default: AUDIT_POLICY_PATH, else the built-in policy)
  --quiet       no progress line on stderr

Exit codes: 0 no drift, 1 bad input or settings, 2 drift found or a rule could not be evaluated
(an error finding: the condition is not proven), 3 Graph/Exchange/Storage failed.`;

/** The storage layer plugs its recorder in here (kept as a parameter so the command has no storage import cycle). */
export type RecorderFactory = NonNullable<EnvironmentOptions['openRecorder']>;

export function scanCommand(openRecorder?: RecorderFactory, notify?: ScanNotifier): CliCommand {
  return {
    name: 'scan',
    summary: 'scan the tenant for mailbox-audit drift and record it',
    usage: USAGE,
    async run(args: string[], io: CliIO): Promise<number> {
      const { values } = parseFlags('scan', args, {
        json: { type: 'boolean', default: false },
        'no-store': { type: 'boolean', default: false },
        'no-notify': { type: 'boolean', default: false },
        'no-plan': { type: 'boolean', default: false },
        policy: { type: 'string' },
        quiet: { type: 'boolean', default: false },
      });
      const settings = loadSettings(io.env);
      const policy = await loadPolicy(values.policy ?? settings.AUDIT_POLICY_PATH);
      const logger = stderrLogger(io);
      const store = !values['no-store'];
      const app = buildApp(settings, policy, { logger: quietInfo(logger), ...(io.credential ? { credential: io.credential } : {}) });
      const night = app.night({ logger: quietInfo(logger), store, plan: !values['no-plan'], notify: !values['no-notify'] });
      // Tests plug in their own recorder and notifier; the digest reports on the full logger.
      if (store && openRecorder) night.recorder = await openRecorder(settings, policy, logger);
      if (night.digest) night.digest = notify ? (scan, _planning, _logger) => notify(settings, scan as ScanResult, logger) : (scan, planning) => app.digest(scan, planning, logger);
      const json = values.json ? new JsonFindingWriter(io) : undefined;
      const progress = values.quiet ? undefined : new ProgressLine(io);

      const { scan: result } = await runNight({
        ...night,
        ...(json ? { onFinding: (finding: Finding) => json.write(finding) } : {}),
        ...(progress ? { onProgress: (state: ScanProgress) => progress.update(state) } : {}),
      });
      progress?.finish();

      if (json) json.close(scanSummary(result, store));
      else io.stdout.write(formatSummary(result, store));
      // A rule that could not be evaluated is not a condition that holds: never exit "no drift" then.
      const drift = Object.values(result.totals.findingsByRule).some((count) => count > 0) || result.totals.ruleErrors > 0;
      return drift ? EXIT.drift : EXIT.ok;
    },
  };
}

/**
 * Info lines would interleave with the progress line and the report, and a failure is printed
 * once, as the command's last word (see reportFailure); warnings still show as they happen.
 */
function quietInfo(logger: ReturnType<typeof stderrLogger>) {
  return { ...logger, info: () => undefined, error: () => undefined };
}

function scanSummary(result: ScanResult, stored: boolean) {
  return {
    tenantId: result.run.tenantId,
    scanId: result.run.scanId,
    startedAt: result.run.startedAt.toISOString(),
    finishedAt: result.totals.finishedAt.toISOString(),
    durationMs: result.durationMs,
    mailboxes: result.totals.mailboxes,
    bypassAssociations: result.totals.bypassAssociations,
    coverage: { ...coverageFigure(result.totals.coverage, result.previousCoverage), byLogonTypeCounts: result.totals.coverage.byLogonType },
    findingsByRule: result.totals.findingsByRule,
    ruleErrors: result.totals.ruleErrors,
    apiCalls: result.totals.apiCalls,
    throttledCalls: result.totals.throttledCalls,
    stored,
    ...(stored
      ? { changes: { opened: result.changes.opened.length, resolved: result.changes.resolved.length, gone: result.changes.gone.length } }
      : {}),
  };
}

/**
 * Streams findings into one JSON document as they are made, so memory stays flat however many
 * there are; the scan summary, known only at the end, closes the document.
 */
class JsonFindingWriter {
  private first = true;
  constructor(private readonly io: CliIO) {
    io.stdout.write('{"findings":[');
  }
  write(finding: Finding): void {
    const record = {
      ruleId: finding.ruleId,
      objectType: finding.objectType,
      objectId: finding.objectId,
      userPrincipalName: finding.userPrincipalName,
      ...(finding.logonType ? { logonType: finding.logonType } : {}),
      severity: finding.severity,
      expected: finding.expected,
      actual: finding.actual,
      ...(finding.error ? { error: finding.error } : {}),
    };
    this.io.stdout.write(`${this.first ? '\n' : ',\n'}${JSON.stringify(record)}`);
    this.first = false;
  }
  close(scan: unknown): void {
    this.io.stdout.write(`\n],\n"scan":${JSON.stringify(scan)}}\n`);
  }
}

/** One progress line on stderr: rewritten in place on a terminal, a line every few seconds otherwise. */
class ProgressLine {
  private lastPlain = 0;
  private drawn = false;
  constructor(private readonly io: CliIO) {}
  update(state: ScanProgress): void {
    const count = (n: number) => n.toLocaleString('en-US');
    const licensed = `${count(state.licensedMailboxesDone)} / ${state.licensedUsers === undefined ? '?' : count(state.licensedUsers)}`;
    const unlicensed = count(state.mailboxesDone - state.licensedMailboxesDone);
    const text = `scan: ${state.phase} · licensed mailboxes ${licensed} · other mailboxes ${unlicensed} · API calls ${count(state.apiCalls)} · throttled ${count(state.throttledCalls)}`;
    if (this.io.stderr.isTTY) {
      this.io.stderr.write(`\r\x1b[2K${text}`);
      this.drawn = true;
    } else if (Date.now() - this.lastPlain >= 5000 || state.phase === 'done') {
      this.io.stderr.write(`${text}\n`);
      this.lastPlain = Date.now();
    }
  }
  finish(): void {
    if (this.drawn) this.io.stderr.write('\n');
  }
}

export function formatSummary(result: ScanResult, stored: boolean): string {
  const { totals } = result;
  const rows = RULE_IDS.map((id: RuleId) => {
    const meta = ruleMetadata(id);
    return [id, meta.severity, String(totals.findingsByRule[id] ?? 0)];
  });
  const widths = [0, 1, 2].map((column) => Math.max(...[['rule', 'severity', 'findings'], ...rows].map((row) => row[column]!.length)));
  const line = (row: string[]) => `  ${row[0]!.padEnd(widths[0]!)}  ${row[1]!.padEnd(widths[1]!)}  ${row[2]!.padStart(widths[2]!)}`;
  const findings = Object.values(totals.findingsByRule).reduce((sum, count) => sum + count, 0);
  const figure = coverageFigure(totals.coverage, result.previousCoverage);
  const critical = RULE_IDS.filter((id) => ruleMetadata(id).severity === 'critical').reduce((sum, id) => sum + (totals.findingsByRule[id] ?? 0), 0);
  const out = [
    formatCoverageHeadline(figure),
    `  ${formatCoverageCounts(figure.counts)}${critical > 0 ? ` · ${critical} critical finding${critical === 1 ? '' : 's'} open` : ''}`,
    '',
    `Scan ${result.run.scanId} of tenant ${result.run.tenantId}`,
    `  ${totals.mailboxes.toLocaleString('en-US')} mailboxes, ${totals.bypassAssociations.toLocaleString('en-US')} bypass associations in ${(result.durationMs / 1000).toFixed(1)} s · ${totals.apiCalls} API calls (${totals.throttledCalls} throttled)`,
    '',
    line(['rule', 'severity', 'findings']),
    ...rows.map(line),
    '',
    `  ${findings.toLocaleString('en-US')} findings${totals.ruleErrors > 0 ? `, ${totals.ruleErrors} rule errors` : ''}`,
  ];
  if (stored) {
    out.push(
      `  recorded: ${result.changes.opened.length} new, ${result.changes.resolved.length} resolved, ${result.changes.gone.length} gone, ${result.changes.stillOpen} still open`,
    );
  } else {
    out.push('  read-only scan: nothing was recorded');
  }
  return `${out.join('\n')}\n`;
}
