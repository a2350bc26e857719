/**
 * `npm run demo`: the nightly job end to end on the embedded default — a simulated tenant (Graph +
 * Exchange Online wire protocols, seeded drift) and a local Azurite — through the same clients,
 * services and command line that run against Microsoft's cloud. No account needed.
 */
import { findingKey } from '../shared/domain/finding';
import { main as cli } from '../shared/cli/main';
import { generateTenant, groundTruth, startSimulatedTenant } from '../sim';

const SEED = 2026;
const MAILBOXES = 3_000;

function heading(text: string): void {
  process.stdout.write(`\n━━ ${text} ${'━'.repeat(Math.max(0, 90 - text.length))}\n`);
}

/** Runs one audit-warden command in-process, echoing it as a user would type it. */
async function run(args: string[], env: Record<string, string | undefined>, capture = false): Promise<{ code: number; stdout: string }> {
  process.stdout.write(`\n$ audit-warden ${args.join(' ')}\n`);
  let stdout = '';
  const code = await cli(args, {
    stdout: capture ? { write: (text: string) => (stdout += text) } : process.stdout,
    stderr: process.stderr,
    env,
  });
  return { code, stdout };
}

async function demo(): Promise<void> {
  heading(`Simulated tenant: ${MAILBOXES.toLocaleString('en-US')} mailboxes, seed ${SEED}, org auditing switched off`);
  const sim = await startSimulatedTenant({ tenant: generateTenant({ seed: SEED, mailboxes: MAILBOXES, orgAuditDisabled: true }), latencyMs: 5 });
  // Exactly what App Service gives a managed identity: DefaultAzureCredential picks these up.
  process.env.IDENTITY_ENDPOINT = sim.identityEndpoint;
  process.env.IDENTITY_HEADER = sim.identityHeader;
  const env = {
    ...process.env,
    AZURE_TENANT_ID: sim.tenantId,
    GRAPH_BASE_URL: sim.baseUrl,
    EXCHANGE_BASE_URL: sim.baseUrl,
  };
  process.stdout.write(`Graph and Exchange Online at ${sim.baseUrl} (tenant ${sim.tenant.domain})\n`);

  try {
    heading('Night 1: scan (read-only)');
    await run(['scan', '--no-store'], env);

    heading('Check: the scan against the simulated tenant\'s ground truth');
    const { stdout } = await run(['scan', '--no-store', '--json', '--quiet'], env, true);
    const reported = new Set((JSON.parse(stdout) as { findings: Array<{ ruleId: string; objectId: string; logonType?: string }> }).findings.map((f) => findingKey(f as never)));
    const expected = new Set(groundTruth(sim.tenant).map(findingKey));
    const missed = [...expected].filter((key) => !reported.has(key));
    const extra = [...reported].filter((key) => !expected.has(key));
    process.stdout.write(
      `${reported.size} findings reported, ${expected.size} expected: ${missed.length === 0 && extra.length === 0 ? 'identical ✓' : `${missed.length} missed, ${extra.length} unexpected ✗`}\n`,
    );
    if (missed.length > 0 || extra.length > 0) process.exitCode = 1;
  } finally {
    await sim.stop();
  }
}

demo().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
