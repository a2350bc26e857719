import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSettings, parseSettings } from '../../../shared/config/settings';
import { describeError, ValidationError } from '../../../shared/errors';
import { credentialFor } from '../../../shared/store/credential';
import { openStoreFromSettings } from '../../../shared/store/open';
import { TENANT } from '../../support/fixtures/tenant';

function failure(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return describeError(error);
  }
  throw new Error('expected the settings to be rejected');
}

describe('settings', () => {
  it('needs only the tenant id and defaults the rest to the public cloud', () => {
    const settings = parseSettings({ AZURE_TENANT_ID: TENANT });
    expect(settings.GRAPH_BASE_URL).toBe('https://graph.microsoft.com');
    expect(settings.EXCHANGE_BASE_URL).toBe('https://outlook.office365.com');
    expect(settings.SCAN_SCHEDULE).toBe('0 0 2 * * *');
    expect(settings.storage).toEqual({ tables: 'UseDevelopmentStorage=true', queues: 'UseDevelopmentStorage=true' });
    expect(settings.AUDIT_POLICY_PATH).toBeUndefined();
  });

  it('says the tenant id is required when it is missing', () => {
    expect(failure(() => parseSettings({}))).toBe('The settings are not valid.\n  - AZURE_TENANT_ID: AZURE_TENANT_ID is required (the tenant GUID)');
  });

  it('names every bad setting at once', () => {
    const message = failure(() =>
      parseSettings({ AZURE_TENANT_ID: 'contoso', GRAPH_BASE_URL: 'graph', EXCHANGE_BASE_URL: 'ftp://x', SCAN_SCHEDULE: '0 2 * * *' }),
    );
    expect(message).toContain('AZURE_TENANT_ID: AZURE_TENANT_ID must be a GUID');
    expect(message).toContain('GRAPH_BASE_URL: GRAPH_BASE_URL must be an absolute http(s) URL');
    expect(message).toContain('EXCHANGE_BASE_URL: EXCHANGE_BASE_URL must use http or https');
    expect(message).toContain('SCAN_SCHEDULE: SCAN_SCHEDULE must be a 6-field NCRONTAB expression');
  });

  it('never echoes a secret setting back in its message', () => {
    const message = failure(() =>
      parseSettings({ AZURE_TENANT_ID: TENANT, REMEDIATION_PAUSED: 'maybe', TEAMS_WEBHOOK_URL: 'https://x.logic.azure.com/?sig=SECRETSIG' }),
    );
    expect(message).toContain('REMEDIATION_PAUSED');
    expect(message).not.toContain('SECRETSIG');
  });

  it('strips a trailing slash from base URLs so paths join cleanly', () => {
    expect(parseSettings({ AZURE_TENANT_ID: TENANT, GRAPH_BASE_URL: 'http://127.0.0.1:7000/' }).GRAPH_BASE_URL).toBe('http://127.0.0.1:7000');
  });

  it('reads local.settings.json Values, with the environment taking precedence', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'aw-settings-')), 'local.settings.json');
    writeFileSync(path, JSON.stringify({ IsEncrypted: false, Values: { AZURE_TENANT_ID: TENANT, SCAN_SCHEDULE: '0 30 1 * * *' } }));
    expect(loadSettings({}, path).SCAN_SCHEDULE).toBe('0 30 1 * * *');
    expect(loadSettings({ SCAN_SCHEDULE: '0 0 3 * * *' }, path).SCAN_SCHEDULE).toBe('0 0 3 * * *');
  });

  it('names a local.settings.json that is not JSON', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'aw-settings-')), 'local.settings.json');
    writeFileSync(path, '{ "Values": ');
    expect(failure(() => loadSettings({}, path))).toMatch(/local\.settings\.json is not valid JSON/);
  });

  describe('storage account, read as the Functions host reads AzureWebJobsStorage', () => {
    it('uses a connection string for tables and queues alike', () => {
      const connection = 'DefaultEndpointsProtocol=https;AccountName=auditwarden;AccountKey=a2V5;EndpointSuffix=core.windows.net';
      const settings = parseSettings({ AZURE_TENANT_ID: TENANT, AzureWebJobsStorage: connection });
      expect(settings.storage).toEqual({ tables: connection, queues: connection });
      expect(credentialFor(settings.storage.tables, settings.storage)).toBeUndefined();
    });

    it('turns an account name into the public-cloud endpoints, signed in as the managed identity', () => {
      const settings = parseSettings({ AZURE_TENANT_ID: TENANT, AzureWebJobsStorage__accountName: 'auditwarden', AzureWebJobsStorage__credential: 'managedidentity' });
      expect(settings.storage).toEqual({
        tables: 'https://auditwarden.table.core.windows.net',
        queues: 'https://auditwarden.queue.core.windows.net',
        managedIdentity: {},
      });
      expect(credentialFor(settings.storage.tables, settings.storage)?.constructor.name).toBe('ManagedIdentityCredential');
      expect(openStoreFromSettings(settings).tables.endpoint).toBe('https://auditwarden.table.core.windows.net');
    });

    it('takes explicit service URLs and a user-assigned identity over the account name', () => {
      const clientId = '0f1e2d3c-4b5a-4697-8899-aabbccddeeff';
      const settings = parseSettings({
        AZURE_TENANT_ID: TENANT,
        AzureWebJobsStorage__accountName: 'ignored',
        AzureWebJobsStorage__tableServiceUri: 'https://auditwarden.table.core.usgovcloudapi.net/',
        AzureWebJobsStorage__queueServiceUri: 'https://auditwarden.queue.core.usgovcloudapi.net',
        AzureWebJobsStorage__clientId: clientId,
      });
      expect(settings.storage).toEqual({
        tables: 'https://auditwarden.table.core.usgovcloudapi.net',
        queues: 'https://auditwarden.queue.core.usgovcloudapi.net',
        managedIdentity: { clientId },
      });
    });

    it('signs in with DefaultAzureCredential when an endpoint is given without a managed identity', () => {
      const settings = parseSettings({ AZURE_TENANT_ID: TENANT, AzureWebJobsStorage__accountName: 'auditwarden' });
      expect(credentialFor(settings.storage.queues, settings.storage)?.constructor.name).toBe('DefaultAzureCredential');
    });

    it('names what is wrong with identity-based settings', () => {
      expect(failure(() => parseSettings({ AZURE_TENANT_ID: TENANT, AzureWebJobsStorage__tableServiceUri: 'https://a.table.core.windows.net' }))).toContain(
        'AzureWebJobsStorage__queueServiceUri: is required with AzureWebJobsStorage__tableServiceUri',
      );
      const message = failure(() =>
        parseSettings({ AZURE_TENANT_ID: TENANT, AzureWebJobsStorage__accountName: 'Audit_Warden', AzureWebJobsStorage__credential: 'secret', AzureWebJobsStorage__clientId: 'me' }),
      );
      expect(message).toContain('AzureWebJobsStorage__accountName: AzureWebJobsStorage__accountName must be a storage account name');
      expect(message).toContain('AzureWebJobsStorage__credential: AzureWebJobsStorage__credential must be "managedidentity"');
      expect(message).toContain('AzureWebJobsStorage__clientId: AzureWebJobsStorage__clientId must be the GUID');
    });
  });
});
