/**
 * One benchmark scan in its own process, so its peak RSS is the scanner's alone (the simulated
 * tenant runs in another process). Reads the same settings as the CLI; prints one JSON line.
 */
import { DEFAULT_POLICY } from '../shared/config/policy';
import { loadSettings } from '../shared/config/settings';
import { silentLogger } from '../shared/logging';
import { openScanEnvironment } from '../shared/app/scan-environment';
import { runScan } from '../shared/services/scan';

async function main(): Promise<void> {
  const settings = loadSettings(process.env);
  const environment = await openScanEnvironment(settings, DEFAULT_POLICY, { store: false, logger: silentLogger });
  const started = process.hrtime.bigint();
  const result = await runScan({
    tenantId: settings.AZURE_TENANT_ID,
    policy: DEFAULT_POLICY,
    reader: environment.reader,
    recorder: environment.recorder,
    logger: silentLogger,
  });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const findings = Object.values(result.totals.findingsByRule).reduce((sum, count) => sum + count, 0);
  process.stdout.write(
    `${JSON.stringify({
      wallMs,
      mailboxes: result.totals.mailboxes,
      findings,
      apiCalls: result.totals.apiCalls,
      throttledCalls: result.totals.throttledCalls,
      peakRssMb: process.resourceUsage().maxRSS / 1024,
    })}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`benchmark scan failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
