/**
 * `npm run demo`: the nightly job end to end on the embedded default — a simulated tenant (Graph +
 * Exchange Online wire protocols, seeded drift), a local Azurite and a local Teams Workflows
 * receiver — through the same clients, services, functions and command line that run against
 * Microsoft's cloud. No account needed. What it shows, night by night:
 *
 *   1. a stored scan, checked against the simulated tenant's ground truth, led by the coverage
 *      figure (org auditing and unified audit log ingestion are both off: nothing is recorded);
 *   2. an admin fixes some drift by hand, new drift appears: the second scan records what changed;
 *   3. remediation fixes the automatic rules and verifies each fix; approval rules wait;
 *   4. the nightly timer function posts the Teams digest; the org-level fixes (org auditing,
 *      ingestion) are approved through the real approval endpoints (GET confirms, POST decides);
 *   5. the licence fixes: reprocessing first, a direct licence (keeping the group's disabled plans)
 *      only where Exchange still refuses;
 *   6. a fresh scan, ending with the coverage figure and the count of open critical findings.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DEFAULT_POLICY, loadPolicy } from '../shared/config/policy';
import { modeFor, RULE_METADATA } from '../shared/rules/pack';
import { formatCoverageCounts, formatCoverageHeadline, type CoverageFigure } from '../shared/rules/coverage';
import { loadSettings } from '../shared/config/settings';
import { findingKey, type RuleId } from '../shared/domain/finding';
import { main as cli } from '../shared/cli/main';
import { readableFields } from '../shared/cli/io';
import { startLocalServer } from '../shared/cli/commands/serve';
import { approveThroughEndpoint } from './approval-client';
import { buildApp, type App } from '../shared/app/app';
import { runNight } from '../shared/services/night';
import type { Logger } from '../shared/logging';
import { fixDrift, generateTenant, groundTruth, injectDrift, startSimulatedTenant } from '../sim';
import { startTeamsWebhookReceiver } from '../sim/teams-webhook';
import { startAzurite } from './azurite';

const SEED = 2026;
const MAILBOXES = 3_000;
const APPROVER = 'secops.lead@contoso.com';
const OUTPUT = resolve('demo-output');

function heading(text: string): void {
  process.stdout.write(`\n━━ ${text} ${'━'.repeat(Math.max(0, 92 - text.length))}\n`);
}

function say(text: string): void {
  process.stdout.write(`${text}\n`);
}

/** Runs one audit-warden command in-process, echoing it as a user would type it. */
async function run(args: string[], options: { capture?: boolean; echo?: boolean } = {}): Promise<{ code: number; stdout: string }> {
  if (options.echo !== false) say(`\n$ audit-warden ${args.join(' ')}`);
  let stdout = '';
  const code = await cli(args, {
    stdout: options.capture ? { write: (text: string) => (stdout += text) } : process.stdout,
    stderr: process.stderr,
    env: process.env,
  });
  return { code, stdout };
}

/**
 * Runs a command whose plan lists every change, printing the first few changes (with the lines that
 * explain them) and everything else; the rest of the list is counted, not printed.
 */
async function runSummarised(args: string[]): Promise<number> {
  const { code, stdout } = await run(args, { capture: true });
  const lines = stdout.split('\n');
  const row = /^ {2}(auto|approval|report) /;
  // A change's explanation continues on lines indented past the row's columns.
  const continuation = /^ {20,}\S/;
  const rows = lines.filter((line) => row.test(line)).length;
  let shown = 0;
  let inHiddenRow = false;
  for (const line of lines) {
    if (row.test(line)) {
      shown += 1;
      inHiddenRow = shown > 4;
      if (!inHiddenRow) say(line);
      else if (shown === 5) say(`  ... and ${rows - 4} more changes`);
    } else if (continuation.test(line)) {
      if (!inHiddenRow) say(line);
    } else {
      inHiddenRow = false;
      if (line !== '' || shown === 0) say(line);
    }
  }
  return code;
}

/** The night's own summary lines, as words; warnings and errors as they come. */
const nightLogger: Logger = {
  info: (message, fields) => {
    if (message === 'nightly scan summary') say(`  [nightly-scan] ${message}${readableFields({ mailboxes: fields?.mailboxes, opened: fields?.opened, resolved: fields?.resolved, apiCalls: fields?.apiCalls })}`);
  },
  warn: (message, fields) => say(`  [nightly-scan] warning: ${message}${readableFields(fields)}`),
  error: (message, fields) => say(`  [nightly-scan] error: ${message}${readableFields(fields)}`),
};

/** Logs of services the demo drives directly: warnings and errors only, so the story stays readable. */
const demoLogger: Logger = {
  info: () => undefined,
  warn: (message, fields) => say(`  warn: ${message}${readableFields(fields)}`),
  error: (message, fields) => say(`  error: ${message}${readableFields(fields)}`),
};

async function openFindingsByRule(): Promise<Partial<Record<RuleId, number>>> {
  const { stdout } = await run(['findings', '--json'], { capture: true, echo: false });
  const items = JSON.parse(stdout) as Array<{ ruleId: RuleId; status: string }>;
  const counts: Partial<Record<RuleId, number>> = {};
  for (const item of items) counts[item.ruleId] = (counts[item.ruleId] ?? 0) + 1;
  return counts;
}

/** Approves every pending request of these rules from the command line, as the approver. */
async function approvePending(environment: App, tenantId: string, rules: readonly RuleId[]): Promise<number> {
  const pending = await environment.approvals.list(tenantId, 'pending');
  const wanted = pending.filter((request) => request.ruleIds.some((rule) => rules.includes(rule)));
  for (const [index, request] of wanted.entries()) {
    await run(['approve', request.requestId, '--as', APPROVER], { capture: true, echo: index === 0 });
  }
  if (wanted.length > 1) say(`  ... and ${wanted.length - 1} more`);
  return wanted.length;
}

async function demo(): Promise<void> {
  rmSync(OUTPUT, { recursive: true, force: true });
  mkdirSync(OUTPUT, { recursive: true });

  heading('Starting the embedded default: Azurite, a simulated tenant, a Teams receiver');
  const azurite = await startAzurite();
  const sim = await startSimulatedTenant({
    tenant: generateTenant({ seed: SEED, mailboxes: MAILBOXES, orgAuditDisabled: true, ingestionDisabled: true }),
    latencyMs: 5,
  });
  const teams = await startTeamsWebhookReceiver({ outputDir: join(OUTPUT, 'teams') });
  Object.assign(process.env, {
    AzureWebJobsStorage: azurite.connectionString,
    AZURE_TENANT_ID: sim.tenantId,
    GRAPH_BASE_URL: sim.baseUrl,
    EXCHANGE_BASE_URL: sim.baseUrl,
    // Exactly what App Service gives a managed identity: DefaultAzureCredential picks these up.
    IDENTITY_ENDPOINT: sim.identityEndpoint,
    IDENTITY_HEADER: sim.identityHeader,
    TEAMS_WEBHOOK_URL: teams.url,
    APPROVAL_SIGNING_KEY: randomBytes(32).toString('base64'),
    APPROVERS: APPROVER,
  });
  // The default policy, but room for this tenant's first night: 500 automatic changes a night
  // (the default blast radius) would leave the rest of a 3,000-mailbox tenant for tomorrow.
  const policyPath = join(OUTPUT, 'policy.json');
  writeFileSync(policyPath, JSON.stringify({ blastRadiusLimit: 2_000 }, null, 2));
  process.env.AUDIT_POLICY_PATH = policyPath;
  const policy = await loadPolicy(policyPath);
  // The approval links on the cards point at the local server, so its address is settled first:
  // the one App of this process reads PUBLIC_BASE_URL with the other settings.
  const port = await freePort();
  process.env.PUBLIC_BASE_URL = `http://127.0.0.1:${port}`;
  const app = buildApp(loadSettings(process.env), policy, { logger: demoLogger });
  const environment = app;
  const server = await startLocalServer({ environment, trustPrincipalHeaders: true, port, logger: demoLogger });
  say(`Tenant ${sim.tenant.domain}: ${MAILBOXES.toLocaleString('en-US')} mailboxes (org auditing and unified audit log ingestion switched off, as an intruder would leave them), Graph and Exchange at ${sim.baseUrl}`);
  say(`Azurite tables and queues on 127.0.0.1:${azurite.tablePort}/${azurite.queuePort}; approvals and dashboard at ${server.url}/api/dashboard`);

  try {
    heading('Night 1: the scan records every finding');
    await run(['scan', '--no-plan']);

    heading("Check: what was reported against the simulated tenant's ground truth");
    const { stdout } = await run(['scan', '--no-store', '--json', '--quiet'], { capture: true });
    const reported = new Set(
      (JSON.parse(stdout) as { findings: Array<{ ruleId: RuleId; objectId: string; logonType?: 'Owner' | 'Delegate' | 'Admin' }> }).findings.map(findingKey),
    );
    const expected = new Set(groundTruth(sim.tenant).map(findingKey));
    const missed = [...expected].filter((key) => !reported.has(key)).length;
    const extra = [...reported].filter((key) => !expected.has(key)).length;
    say(`${reported.size} findings reported, ${expected.size} expected: ${missed === 0 && extra === 0 ? 'the same findings, none missed, none extra' : `${missed} missed, ${extra} unexpected ✗`}`);
    if (missed > 0 || extra > 0) process.exitCode = 1;

    heading('During the day: an admin fixes 25 mailboxes by hand; 15 others drift');
    const drifted = sim.tenant.mailboxes.filter((mailbox) => mailbox.drift && mailbox.recipientTypeDetails === 'UserMailbox');
    const fixedByHand = drifted.slice(0, 25);
    for (const mailbox of fixedByHand) fixDrift(sim.tenant, mailbox.guid, 'all');
    // Drift appears on mailboxes that were clean all along: the ones just fixed stay fixed.
    const fixed = new Set(fixedByHand.map((mailbox) => mailbox.guid));
    const clean = sim.tenant.mailboxes.filter((mailbox) => !mailbox.drift && mailbox.recipientTypeDetails === 'UserMailbox' && !fixed.has(mailbox.guid));
    for (const [index, mailbox] of clean.slice(0, 15).entries()) {
      injectDrift(sim.tenant, mailbox.guid, index % 3 === 0 ? { kind: 'audit-disabled' } : index % 3 === 1 ? { kind: 'audit-log-age-short' } : { kind: 'action-removed', logonType: 'Owner', action: 'MailItemsAccessed' });
    }
    const example = fixedByHand[0]!;
    say(`e.g. ${example.primarySmtpAddress} fixed by hand; ${clean[2]!.primarySmtpAddress} lost MailItemsAccessed for its owner`);

    heading('Night 2: the scan records what changed');
    await run(['scan', '--quiet', '--no-plan']);
    await run(['history', '--mailbox', example.primarySmtpAddress]);

    heading('Remediation: automatic rules are fixed and verified; approval rules wait');
    await runSummarised(['remediate', '--quiet']);

    heading('Night 3: the nightly timer function (scan → plan → Teams digest)');
    // The night the timer function runs, through the same use case and the same composition root.
    const night = await runNight(app.night({ logger: nightLogger }));
    say(`  [nightly-scan] ${night.planning?.enqueued ?? 0} automatic changes queued, ${night.planning?.approvalRequests.length ?? 0} approval requests opened`);
    const digest = teams.deliveries.at(-1);
    say(`Teams digest posted (${teams.deliveries.length} card(s) so far); rendered as Teams would show it: ${join(OUTPUT, 'teams', `card-${String(digest?.index ?? 0).padStart(3, '0')}.html`)}`);

    heading(`Approval: ${APPROVER} approves the org-level fixes from the card, through the real endpoints`);
    // The card lists the most severe requests first: the two org switches are critical.
    const orgRules: RuleId[] = ['org-audit-disabled', 'audit-log-ingestion-disabled'];
    const orgRequests = (await environment.approvals.list(sim.tenantId, 'pending')).filter((request) => request.ruleIds.some((rule) => orgRules.includes(rule)));
    // The card's Approve links of those two requests (its links carry the request id in the path).
    const approveUrls = (digest ? findApproveUrls(digest.card) : []).filter((url) =>
      orgRequests.some((request) => url.includes(`/api/approvals/${request.requestId}?`)),
    );
    if (approveUrls.length === 0) {
      say('no org-level approval request on the card ✗');
      process.exitCode = 1;
    }
    const principal = { id: '4f1c2d3e-0000-4000-8000-00000000a11c', name: APPROVER };
    for (const approveUrl of approveUrls) {
      const outcome = await approveThroughEndpoint({ approveUrl, principal, baseUrl: server.url });
      say(`GET (confirmation page, decides nothing): HTTP ${outcome.confirmStatus}; POST (the decision): HTTP ${outcome.status}`);
    }
    if (approveUrls[0]) {
      const replay = await approveThroughEndpoint({ approveUrl: approveUrls[0], principal, baseUrl: server.url });
      say(`the same link again: HTTP ${replay.confirmStatus} (a link decides once)`);
    }
    // Whatever org-level request the card did not carry is approved from the command line.
    await approvePending(environment, sim.tenantId, orgRules);
    await runSummarised(['remediate', '--quiet']);

    heading('The licence fixes: Exchange has not applied the licence some groups assign');
    // A direct assignment needs a usage location, which group-licensed users often lack: an admin sets it first.
    const noLocation = sim.tenant.users.filter((user) => user.groupProvisioningFailed && user.usageLocation === null);
    for (const user of noLocation) user.usageLocation = 'US';
    say(`an admin sets the usage location that ${noLocation.length} of those users lacked (a licence cannot be assigned without one)`);
    say('first step, automatic: Graph reprocessLicenseAssignment (changes no plan, takes no seat); then a scan sees where Exchange still refuses');
    await runSummarised(['remediate', '--quiet']);
    await run(['scan', '--quiet', '--no-notify']);
    await runSummarised(['remediate', '--quiet']);
    say('second step, approved: a direct licence that keeps every plan the group left disabled');
    const licences = await approvePending(environment, sim.tenantId, ['licence-inherited-blocks-mia']);
    say(`${licences} direct licence assignment(s) approved; applying them, then MailItemsAccessed, which Exchange now accepts`);
    await runSummarised(['remediate', '--quiet']);
    await run(['scan', '--quiet', '--no-notify']);
    await runSummarised(['remediate', '--quiet']);

    heading('The security lead reviews the accounts that bypass auditing and approves removing every bypass');
    const bypasses = await approvePending(environment, sim.tenantId, ['audit-bypass-enabled']);
    say(`${bypasses} bypass removal(s) approved; applying them`);
    await runSummarised(['remediate', '--quiet']);

    heading('Night 5: a fresh scan');
    const { stdout: lastScan } = await run(['scan', '--quiet', '--no-notify', '--json'], { capture: true });
    const final = JSON.parse(lastScan) as { scan: { coverage: CoverageFigure } };
    const open = await openFindingsByRule();
    const autoRules = (Object.keys(open) as RuleId[]).filter((rule) => modeFor(DEFAULT_POLICY, rule) === 'auto');
    const leftAuto = autoRules.reduce((sum, rule) => sum + (open[rule] ?? 0), 0);
    const critical = (Object.keys(open) as RuleId[]).filter((rule) => RULE_METADATA[rule].severity === 'critical').reduce((sum, rule) => sum + (open[rule] ?? 0), 0);
    say('open findings by rule:');
    for (const rule of Object.keys(open) as RuleId[]) say(`  ${rule.padEnd(32)} ${String(open[rule]).padStart(6)}  (${RULE_METADATA[rule].severity}, ${modeFor(DEFAULT_POLICY, rule)})`);
    say(
      leftAuto === 0
        ? 'no drift left for the automatic rules (what remains waits for an approver, or is report-only)'
        : `${leftAuto} findings of automatic rules remain (see "audit-warden findings --status blocked")`,
    );
    say('');
    say(formatCoverageHeadline(final.scan.coverage));
    say(`  ${formatCoverageCounts(final.scan.coverage.counts)}`);
    // A tick only when nothing critical is open: the story must never look finished when it is not.
    say(critical === 0 ? 'Open critical findings: 0 ✓' : `Open critical findings: ${critical} (see "audit-warden findings --severity critical")`);
    say(`\nCards posted to Teams: ${teams.deliveries.length}, saved under ${join(OUTPUT, 'teams')}`);
  } finally {
    await server.stop();
    await teams.stop();
    await sim.stop();
    await azurite.stop();
  }
}

/** A loopback port nothing listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** The Approve buttons on a digest card (Action.OpenUrl whose URL asks to approve), in card order. */
function findApproveUrls(card: unknown): string[] {
  const found: string[] = [];
  const walk = (node: unknown): void => {
    if (node === null || typeof node !== 'object') return;
    const record = node as Record<string, unknown>;
    if (record.type === 'Action.OpenUrl' && typeof record.url === 'string' && record.url.includes('d=approve')) {
      found.push(record.url);
      return;
    }
    for (const value of Object.values(record)) walk(value);
  };
  walk(card);
  return found;
}

demo().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exitCode = 1;
});
