import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { ValidationError } from '../errors';
import { formatZodIssues } from './zod-format';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const baseUrl = (name: string) =>
  z
    .url({ message: `${name} must be an absolute http(s) URL` })
    .refine((value) => /^https?:\/\//i.test(value), `${name} must use http or https`)
    .transform((value) => value.replace(/\/+$/, ''));

const optionalText = z
  .string()
  .optional()
  .transform((value) => (value && value.trim() !== '' ? value.trim() : undefined));

const booleanText = z
  .enum(['true', 'false', '1', '0', ''])
  .optional()
  .transform((value) => value === 'true' || value === '1');

/**
 * App settings, from the environment (Functions app settings) or local.settings.json.
 * Secrets (webhook URL, signing key) are parsed here but never echoed back in a message.
 */
export const settingsSchema = z.object({
  AZURE_TENANT_ID: z
    .string({ message: 'AZURE_TENANT_ID is required (the tenant GUID)' })
    .regex(GUID, 'AZURE_TENANT_ID must be a GUID such as 8f0e3f6a-1d2b-4c5d-9e8f-0a1b2c3d4e5f'),
  GRAPH_BASE_URL: baseUrl('GRAPH_BASE_URL').default('https://graph.microsoft.com'),
  EXCHANGE_BASE_URL: baseUrl('EXCHANGE_BASE_URL').default('https://outlook.office365.com'),
  /** Token scopes: default to the public cloud; sovereign clouds set these with their base URLs. */
  GRAPH_SCOPE: optionalText,
  EXCHANGE_SCOPE: optionalText,
  AUDIT_POLICY_PATH: optionalText,
  SCAN_SCHEDULE: z
    .string()
    .regex(/^\S+( \S+){5}$/, 'SCAN_SCHEDULE must be a 6-field NCRONTAB expression such as "0 0 2 * * *"')
    .default('0 0 2 * * *'),
  /** The drift-history retention timer: weekly, Sunday 04:00 UTC, away from the nightly scan. */
  HISTORY_PRUNE_SCHEDULE: z
    .string()
    .regex(/^\S+( \S+){5}$/, 'HISTORY_PRUNE_SCHEDULE must be a 6-field NCRONTAB expression such as "0 0 4 * * 0"')
    .default('0 0 4 * * 0'),
  EXCHANGE_MAX_CONCURRENCY: z.coerce.number().int().min(1).max(16).default(4),
  /** A connection string; or, as the Functions host reads it, identity-based settings below. */
  AzureWebJobsStorage: optionalText,
  AzureWebJobsStorage__accountName: z
    .string()
    .regex(/^[a-z0-9]{3,24}$/, 'AzureWebJobsStorage__accountName must be a storage account name (3-24 lower-case letters and digits)')
    .optional(),
  AzureWebJobsStorage__tableServiceUri: baseUrl('AzureWebJobsStorage__tableServiceUri').optional(),
  AzureWebJobsStorage__queueServiceUri: baseUrl('AzureWebJobsStorage__queueServiceUri').optional(),
  AzureWebJobsStorage__credential: z
    .enum(['managedidentity'], { message: 'AzureWebJobsStorage__credential must be "managedidentity" or left out' })
    .optional(),
  AzureWebJobsStorage__clientId: z.string().regex(GUID, 'AzureWebJobsStorage__clientId must be the GUID of a user-assigned identity').optional(),
  TEAMS_WEBHOOK_URL: optionalText,
  APPROVAL_SIGNING_KEY: optionalText,
  PUBLIC_BASE_URL: optionalText,
  APPROVERS: optionalText,
  REMEDIATION_PAUSED: booleanText,
});

export type Settings = z.infer<typeof settingsSchema> & {
  /** Where tables and queues live, resolved from the AzureWebJobsStorage settings (see storageOf). */
  storage: StorageAccount;
};

/**
 * The storage account for tables and queues. `tables` and `queues` are each a connection string
 * or a service endpoint URL. With URLs, `managedIdentity` says to sign in as the app's managed
 * identity (user-assigned when it has a client id); without it, DefaultAzureCredential (the managed
 * identity in Azure, the developer's sign-in locally).
 */
export interface StorageAccount {
  tables: string;
  queues: string;
  managedIdentity?: { clientId?: string };
}

/**
 * The Functions host's rules for a connection named AzureWebJobsStorage, so the app and its
 * triggers always use the same account: a connection string wins; otherwise identity-based
 * settings (`__tableServiceUri`/`__queueServiceUri`, or `__accountName` for the public cloud's
 * endpoints); with none of them, the local emulator.
 */
function storageOf(values: z.infer<typeof settingsSchema>): StorageAccount {
  if (values.AzureWebJobsStorage) return { tables: values.AzureWebJobsStorage, queues: values.AzureWebJobsStorage };
  const account = values.AzureWebJobsStorage__accountName;
  const tables = values.AzureWebJobsStorage__tableServiceUri ?? (account ? `https://${account}.table.core.windows.net` : undefined);
  const queues = values.AzureWebJobsStorage__queueServiceUri ?? (account ? `https://${account}.queue.core.windows.net` : undefined);
  if (!tables && !queues) return { tables: 'UseDevelopmentStorage=true', queues: 'UseDevelopmentStorage=true' };
  if (!tables || !queues) {
    throw new ValidationError('The settings are not valid.', 'settings', [
      `AzureWebJobsStorage__${tables ? 'queueServiceUri' : 'tableServiceUri'}: is required with AzureWebJobsStorage__${tables ? 'tableServiceUri' : 'queueServiceUri'} (or give AzureWebJobsStorage__accountName)`,
    ]);
  }
  const clientId = values.AzureWebJobsStorage__clientId;
  const managed = values.AzureWebJobsStorage__credential === 'managedidentity' || clientId !== undefined;
  return { tables, queues, ...(managed ? { managedIdentity: clientId ? { clientId } : {} } : {}) };
}

/** Names whose values must never appear in output. */
export const SECRET_SETTINGS = ['TEAMS_WEBHOOK_URL', 'APPROVAL_SIGNING_KEY', 'AzureWebJobsStorage'] as const;

export function parseSettings(env: Record<string, string | undefined>): Settings {
  const result = settingsSchema.safeParse(env);
  if (!result.success) {
    throw new ValidationError('The settings are not valid.', 'settings', formatZodIssues(result.error));
  }
  return { ...result.data, storage: storageOf(result.data) };
}

/**
 * Environment first, then the Values of local.settings.json (as `func start` does), so the
 * command line runs with the same file the Functions host uses.
 */
export function loadSettings(
  env: Record<string, string | undefined> = process.env,
  localSettingsPath = 'local.settings.json',
): Settings {
  return parseSettings({ ...readLocalSettings(localSettingsPath), ...definedOnly(env) });
}

function definedOnly(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

function readLocalSettings(path: string): Record<string, string> {
  if (!existsSync(path)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ValidationError(`${path} is not valid JSON: ${(error as Error).message}.`, path, [], { cause: error });
  }
  const values = z.object({ Values: z.record(z.string(), z.string()).default({}) }).safeParse(parsed);
  if (!values.success) {
    throw new ValidationError(`${path} is not a valid local settings file.`, path, formatZodIssues(values.error));
  }
  return values.data.Values;
}

/** The scope for a resource: explicit setting, else the public-cloud resource for that API. */
export function graphScope(settings: Settings): string {
  return settings.GRAPH_SCOPE ?? 'https://graph.microsoft.com/.default';
}

export function exchangeScope(settings: Settings): string {
  return settings.EXCHANGE_SCOPE ?? 'https://outlook.office365.com/.default';
}
