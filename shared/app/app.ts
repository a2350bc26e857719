import type { TokenCredential } from '@azure/identity';
import { loadPolicy, type AuditPolicy } from '../config/policy';
import { loadSettings, type Settings } from '../config/settings';
import { silentLogger, type Logger } from '../logging';
import type { PruneTenantHistory } from '../services/history-retention';
import type { NightOptions } from '../services/night';
import { pruneHistory } from '../store/prune';
import { readOnlyRecorder } from '../services/scan-recorder';
import { createTenantReader } from '../services/tenant-reader';
import { environmentDigestPoster, type ScanDigestPoster } from '../services/teams-digest';
import { TableScanRecorder } from '../store/recorder';
import { buildTenantClients, type ClientOptions, type TenantClients } from './clients';
import { openRemediationEnvironment, type RemediationEnvironment, type RemediationEnvironmentOptions } from './remediation-environment';

/**
 * THE composition root: settings → credential → clients → store → services, built once per process
 * and shared by every function, the command line and the demo. One ExchangeClient per process means
 * one Exchange concurrency budget, however many queue messages and timers run at once.
 */
export interface App extends RemediationEnvironment {
  clients: TenantClients;
  /** The Teams digest poster; one per app, so its rate limiter spans the process's nights. */
  digest: ScanDigestPoster;
  /** What a night needs; `store: false` reads only (no record, no planning, no digest). */
  night(options: NightChoices): NightOptions;
  /** Deletes one tenant's drift history older than `retentionDays` (the weekly retention timer). */
  pruneHistory: PruneTenantHistory;
}

export interface NightChoices {
  logger: Logger;
  /** Record the scan in Table Storage (default true). */
  store?: boolean;
  /** Plan fixes after a stored scan (default true). */
  plan?: boolean;
  /** Post the Teams digest after a stored scan (default true; skipped without TEAMS_WEBHOOK_URL). */
  notify?: boolean;
}

export type AppOptions = Omit<RemediationEnvironmentOptions, 'clients'> & ClientOptions;

export function buildApp(settings: Settings, policy: AuditPolicy, options: AppOptions): App {
  const clients = buildTenantClients(settings, options);
  const remediation = openRemediationEnvironment(settings, policy, { ...options, clients });
  const reader = createTenantReader(clients.graph, clients.exchange, clients.usage);
  const digest = environmentDigestPoster(async () => remediation);
  return {
    ...remediation,
    clients,
    digest,
    pruneHistory: (tenantId, retentionDays, now) => pruneHistory(remediation.store, tenantId, { historyRetentionDays: retentionDays }, now, options.logger),
    night(choices) {
      const store = choices.store ?? true;
      return {
        tenantId: settings.AZURE_TENANT_ID,
        policy,
        reader,
        // A recorder holds one scan's state, so each night gets its own over the shared store.
        recorder: store ? new TableScanRecorder(remediation.store, { logger: choices.logger }) : readOnlyRecorder,
        logger: choices.logger,
        ...(store && (choices.plan ?? true) ? { planning: { ...remediation.services, logger: choices.logger } } : {}),
        ...(store && (choices.notify ?? true) ? { digest } : {}),
      };
    },
  };
}

let production: Promise<App> | undefined;

/**
 * The Functions app's App, built on first use from the app settings and kept for the life of the
 * process. A failed start (bad settings, unreadable policy) is not cached: the next invocation
 * reports it afresh.
 */
export function productionApp(env: Record<string, string | undefined> = process.env): Promise<App> {
  production ??= (async () => {
    const settings = loadSettings(env);
    const policy = await loadPolicy(settings.AUDIT_POLICY_PATH);
    return buildApp(settings, policy, { logger: silentLogger });
  })();
  production.catch(() => (production = undefined));
  return production;
}

/** For the command line: an App over the given settings, with an explicit credential when tests pass one. */
export async function appFromSettings(settings: Settings, logger: Logger, credential?: TokenCredential, policyPath?: string): Promise<App> {
  const policy = await loadPolicy(policyPath ?? settings.AUDIT_POLICY_PATH);
  return buildApp(settings, policy, { logger, ...(credential ? { credential } : {}) });
}
