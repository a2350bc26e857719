/**
 * Runs the simulated tenant until Ctrl-C and prints the settings a client needs:
 *
 *   node dist/sim/cli.js --seed 1 --mailboxes 2000 [--port 7000] [--latency-ms 0] [--org-audit-disabled]
 *                        [--ingestion-disabled] [--licence-model 2026|2023]
 *
 * The environment lines go to stdout (so `eval "$(... | grep =)"` style use works); the summary
 * goes to stderr.
 */
import { parseArgs } from 'node:util';
import { FAULT_KINDS, type FaultKind } from './faults';
import { startSimulatedTenant } from './server';
import { LICENCE_MODELS, type LicenceModel } from './microsoft-facts';
import { generateTenant, groundTruthCounts, MAX_MAILBOXES } from './tenant';

const USAGE = `Usage: node dist/sim/cli.js --seed <int> --mailboxes <count> [options]

Options:
  --seed <int>                 seed of the tenant (same seed and size, same tenant)     (required)
  --mailboxes <count>          number of mailboxes, 0 to ${MAX_MAILBOXES}                          (required)
  --port <port>                port on 127.0.0.1 (default: a free port)
  --latency-ms <ms>            latency added to every Graph and Exchange response (default 0)
  --org-audit-disabled         set Get-OrganizationConfig AuditDisabled = True
  --ingestion-disabled         set Get-AdminAuditLogConfig UnifiedAuditLogIngestionEnabled = False
  --licence-model <2026|2023>  Exchange's licence behaviour (default 2026: MailItemsAccessed and Send
                               in Audit (Standard); 2023: Audit (Premium) only, refused otherwise)
  --iso8601                    print AuditLogAgeLimit as P180D instead of 180.00:00:00
  --concurrency-limit <n>      Exchange requests beyond n in flight get the concurrency error
  --fault-rate <0..1>          random faults, drawn from the seed
  --fault-kinds <a,b>          kinds for --fault-rate (${FAULT_KINDS.join(', ')})
  -h, --help                   show this help`;

class UsageError extends Error {}

function integer(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value.trim())) throw new UsageError(`--${name} must be an integer, got '${value}'.`);
  const number = Number(value);
  if (number < min || number > max) throw new UsageError(`--${name} must be between ${min} and ${max}, got ${number}.`);
  return number;
}

async function main(argv: string[]): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        seed: { type: 'string' },
        mailboxes: { type: 'string' },
        port: { type: 'string' },
        'latency-ms': { type: 'string' },
        'org-audit-disabled': { type: 'boolean' },
        'ingestion-disabled': { type: 'boolean' },
        'licence-model': { type: 'string' },
        iso8601: { type: 'boolean' },
        'concurrency-limit': { type: 'string' },
        'fault-rate': { type: 'string' },
        'fault-kinds': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const seed = integer('seed', values.seed, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  const mailboxes = integer('mailboxes', values.mailboxes, 0, MAX_MAILBOXES);
  if (seed === undefined) throw new UsageError('--seed is required.');
  if (mailboxes === undefined) throw new UsageError('--mailboxes is required.');
  const port = integer('port', values.port, 0, 65535);
  const latencyMs = integer('latency-ms', values['latency-ms'], 0, 600_000);
  const concurrencyLimit = integer('concurrency-limit', values['concurrency-limit'], 1, 10_000);
  let faultRate: number | undefined;
  if (values['fault-rate'] !== undefined) {
    faultRate = Number(values['fault-rate']);
    if (!(faultRate >= 0 && faultRate <= 1)) throw new UsageError(`--fault-rate must be a number from 0 to 1, got '${values['fault-rate']}'.`);
  }
  const faultKinds = values['fault-kinds']?.split(',').map((kind) => kind.trim());
  for (const kind of faultKinds ?? []) {
    if (!(FAULT_KINDS as readonly string[]).includes(kind)) throw new UsageError(`--fault-kinds: unknown kind '${kind}'; use ${FAULT_KINDS.join(', ')}.`);
  }

  const licenceModel = values['licence-model'] ?? '2026';
  if (!(LICENCE_MODELS as readonly string[]).includes(licenceModel)) throw new UsageError(`--licence-model must be ${LICENCE_MODELS.join(' or ')}, got '${licenceModel}'.`);

  const started = Date.now();
  const tenant = generateTenant({
    seed,
    mailboxes,
    orgAuditDisabled: values['org-audit-disabled'] === true,
    ingestionDisabled: values['ingestion-disabled'] === true,
    licenceModel: licenceModel as LicenceModel,
    auditLogAgeLimitFormat: values.iso8601 ? 'iso8601' : 'timespan',
  });
  const generatedIn = Date.now() - started;
  const server = await startSimulatedTenant({
    tenant,
    port,
    latencyMs,
    concurrencyLimit,
    faults: faultRate ? { random: { rate: faultRate, kinds: faultKinds as FaultKind[] | undefined } } : undefined,
  });

  process.stdout.write(
    [
      `AZURE_TENANT_ID=${server.tenantId}`,
      `GRAPH_BASE_URL=${server.baseUrl}`,
      `EXCHANGE_BASE_URL=${server.baseUrl}`,
      `IDENTITY_ENDPOINT=${server.identityEndpoint}`,
      `IDENTITY_HEADER=${server.identityHeader}`,
      '',
    ].join('\n'),
  );
  const counts = groundTruthCounts(tenant);
  const findings = Object.entries(counts)
    .map(([rule, count]) => `  ${rule}: ${count}`)
    .join('\n');
  process.stderr.write(
    `Simulated tenant ${tenant.domain} (seed ${seed}, licence model ${tenant.licenceModel}): ${mailboxes} mailboxes generated in ${generatedIn} ms, listening on ${server.baseUrl}.\n` +
      `Expected findings under the oracle's pinned policy (sim/pinned-policy.ts):\n${findings || '  none'}\n` +
      'Unset AZURE_CLIENT_ID / AZURE_CLIENT_SECRET so DefaultAzureCredential uses the managed identity. Ctrl-C stops.\n',
  );

  await new Promise<void>((resolve) => {
    const shutdown = (): void => {
      process.off('SIGINT', shutdown);
      process.off('SIGTERM', shutdown);
      void server.stop().finally(resolve);
    };
    process.on('SIGINT', shutdown);
    process.on('SIGTERM', shutdown);
  });
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError) {
    process.stderr.write(`${error.message}\n\n${USAGE}\n`);
  } else {
    process.stderr.write(`The simulated tenant failed: ${error instanceof Error ? error.message : String(error)}\n`);
  }
  process.exitCode = 1;
});
