/**
 * `npm run bench`: speed and memory figures, printed as tables. Targets are printed beside the
 * figures, never asserted by a test (timings depend on the machine).
 *
 *   npm run bench                 every section at full size
 *   npm run bench -- --quick      smaller sizes, for a quick look
 *   npm run bench -- --only scan  one section (scan)
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { benchRemediation } from './bench-remediation';
import { benchStoreReport } from './bench-store';
import { runJsonChild, startChildWithEnv } from './child';

const DIST = join(__dirname, '..');
const SIM = join(DIST, 'sim', 'cli.js');
const ENV_KEYS = ['AZURE_TENANT_ID', 'GRAPH_BASE_URL', 'EXCHANGE_BASE_URL', 'IDENTITY_ENDPOINT', 'IDENTITY_HEADER'];

interface ScanFigures {
  wallMs: number;
  mailboxes: number;
  findings: number;
  apiCalls: number;
  throttledCalls: number;
  peakRssMb: number;
}

export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => `| ${cells.map((cell, column) => cell.padStart(widths[column]!)).join(' | ')} |`;
  return [line(headers), `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

async function benchScan(sizes: number[]): Promise<string> {
  const rows: string[][] = [];
  for (const size of sizes) {
    const sim = await startChildWithEnv(SIM, ['--seed', '2026', '--mailboxes', String(size), '--latency-ms', '50'], ENV_KEYS);
    try {
      const figures = await runJsonChild<ScanFigures>(join(DIST, 'scripts', 'bench-scan-child.js'), [], {
        PATH: process.env.PATH,
        ...sim.env,
      });
      rows.push([
        size.toLocaleString('en-US'),
        figures.mailboxes.toLocaleString('en-US'),
        (figures.wallMs / 1000).toFixed(1),
        Math.round(figures.mailboxes / (figures.wallMs / 1000)).toLocaleString('en-US'),
        figures.apiCalls.toLocaleString('en-US'),
        ((figures.apiCalls / figures.mailboxes) * 1000).toFixed(2),
        figures.peakRssMb.toFixed(0),
        figures.findings.toLocaleString('en-US'),
      ]);
    } finally {
      await sim.stop();
    }
  }
  return [
    'Scan (simulated tenant, 50 ms latency per call, read-only, scanner in its own process)',
    table(['tenant size', 'mailboxes in scope', 'wall s', 'mailboxes/s', 'API calls', 'calls/1,000 mbx', 'peak RSS MB', 'findings'], rows),
    'Targets at 100,000: ≤ 3.5 API calls per 1,000 mailboxes, wall time ≤ 30 s, peak RSS ≤ 300 MB.',
  ].join('\n');
}

async function benchRemediationReport(quick: boolean): Promise<string> {
  const mailboxes = quick ? 1_000 : 10_000;
  const figures = await benchRemediation({ mailboxes, latencyMs: 50, concurrencyLimit: 10, log: (line) => process.stderr.write(`${line}\n`) });
  return [
    `Remediation (${mailboxes.toLocaleString('en-US')} drifted mailboxes, simulated tenant with 50 ms latency and 10 concurrent Exchange calls, Azurite queues)`,
    table(
      ['enqueued', 'verified', 'blocked', 'failed', 'fixes/s', '429s + concurrency errors', 'max Exchange in flight', 'messages lost', 'drift left', 'wall s'],
      [
        [
          String(figures.enqueued),
          String(figures.verified),
          String(figures.blocked),
          String(figures.failed),
          figures.fixesPerSecond.toFixed(1),
          String(figures.throttled),
          String(figures.maxExchangeInFlight),
          String(figures.messagesLost),
          String(figures.driftLeft),
          (figures.wallMs / 1000).toFixed(1),
        ],
      ],
    ),
    'Target: 0 messages lost.',
  ].join('\n');
}

/** Each section is a function returning its printed report. */
const sections: Record<string, (quick: boolean) => Promise<string>> = {
  scan: (quick) => benchScan(quick ? [2_000, 10_000] : [10_000, 100_000]),
  store: (quick) => benchStoreReport(quick, (line) => process.stderr.write(`${line}\n`)),
  remediation: benchRemediationReport,
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean', default: false }, only: { type: 'string' } },
    strict: true,
  });
  const names = values.only ? values.only.split(',') : Object.keys(sections);
  for (const name of names) {
    const section = sections[name];
    if (!section) throw new Error(`unknown section "${name}"; sections: ${Object.keys(sections).join(', ')}`);
    process.stderr.write(`running ${name}...\n`);
    process.stdout.write(`\n${await section(values.quick)}\n`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
