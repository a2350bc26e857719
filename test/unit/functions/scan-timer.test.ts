import { InvocationContext, type Timer } from '@azure/functions';
import { DEFAULT_POLICY } from '../../../shared/config/policy';
import { parseSettings } from '../../../shared/config/settings';
import type { ScanEnvironment } from '../../../shared/app/scan-environment';
import type { ObservedObject, ScanRecorder } from '../../../shared/domain/ports';
import type { TenantReader } from '../../../shared/services/scan';
import { nightlyScanHandler, scanSchedule } from '../../../functions/scan-timer';
import { registrationsOf } from '../../support/registrations';
import { loggerFrom } from '../../../shared/logging';
import { licenceOf } from '../../support/fixtures/licence';
import { mailboxOf } from '../../support/fixtures/mailbox';
import { anOrganization } from '../../support/fixtures/organization';
import { TENANT } from '../../support/fixtures/tenant';

/** A read-and-record night over a scan environment: no planning, no digest. */
function night(environment: ScanEnvironment) {
  return { tenantId: environment.settings.AZURE_TENANT_ID, policy: environment.policy, reader: environment.reader, recorder: environment.recorder };
}

function timer(isPastDue = false): Timer {
  return { isPastDue, schedule: { adjustForDST: true }, scheduleStatus: { last: '', next: '', lastUpdated: '' } };
}

function contextWithLogs() {
  const lines: Array<{ level: string; args: unknown[] }> = [];
  const context = new InvocationContext({
    invocationId: 'test-invocation',
    functionName: 'nightly-scan',
    logHandler: (level, ...args) => lines.push({ level, args }),
  });
  return { context, lines };
}

describe('nightly-scan timer function', () => {
  it('registers as "nightly-scan" on SCAN_SCHEDULE, defaulting to 02:00 every night', () => {
    const [byDefault] = registrationsOf('../../functions/scan-timer', { SCAN_SCHEDULE: undefined });
    expect(byDefault).toMatchObject({ kind: 'timer', name: 'nightly-scan', options: { schedule: '0 0 2 * * *' } });
    expect(typeof byDefault!.options.handler).toBe('function');
    const [configured] = registrationsOf('../../functions/scan-timer', { SCAN_SCHEDULE: '0 30 3 * * 1-5' });
    expect(configured).toMatchObject({ kind: 'timer', name: 'nightly-scan', options: { schedule: '0 30 3 * * 1-5' } });
  });

  it('refuses to register with a schedule that is not NCRONTAB, naming the setting', () => {
    expect(() => scanSchedule({ SCAN_SCHEDULE: '0 2 * * *' })).toThrow(/6-field NCRONTAB/);
  });

  it('scans through the environment it is given, records every object, and logs the summary', async () => {
    const observed: ObservedObject[] = [];
    const recorder: ScanRecorder = {
      begin: async () => ({ mailItemsAccessedRefused: new Set() }),
      observe: async (object) => {
        observed.push(object);
      },
      complete: async () => ({ opened: [], resolved: [], gone: [], stillOpen: 0 }),
      fail: async () => undefined,
    };
    const drifted = { ...mailboxOf('u2'), auditEnabled: false };
    const reader: TenantReader = {
      organization: async () => anOrganization(),
      licensedUsers: async function* () {
        yield licenceOf('u1');
        yield licenceOf('u2');
      },
      bypassAssociations: async function* () {},
      mailboxes: async function* () {
        yield mailboxOf('u1');
        yield drifted;
      },
      apiUsage: () => ({ calls: 3, throttled: 0 }),
    };
    const environment: ScanEnvironment = {
      settings: parseSettings({ AZURE_TENANT_ID: TENANT }),
      policy: DEFAULT_POLICY,
      reader,
      recorder,
      exchange: undefined as never,
    };
    const { context, lines } = contextWithLogs();
    await nightlyScanHandler(async (invocation) => ({ ...night(environment), logger: loggerFrom(invocation) }))(timer(true), context);

    expect(observed.map((object) => object.objectId)).toEqual(['contoso.onmicrosoft.com', 'u1', 'u2']);
    expect(observed[1]!.findings).toEqual([]);
    expect(observed[2]!.findings.map((finding) => [finding.ruleId, finding.severity])).toEqual([['mailbox-audit-disabled', 'low']]);
    // AuditEnabled False on a user mailbox is hygiene: its reads are still recorded, at risk.
    expect(observed[1]!.coverage?.verdict).toBe('recorded');
    expect(observed[2]!.coverage?.verdict).toBe('at-risk');
    expect(lines.some((line) => line.level === 'warning' && String(line.args[0]).includes('running late'))).toBe(true);
    const summary = lines.find((line) => line.args[0] === 'nightly scan summary');
    expect(summary?.args[1]).toMatchObject({ mailboxes: 2, findingsByRule: { 'mailbox-audit-disabled': 1 }, apiCalls: 3 });
  });

  it('fails the invocation when the tenant cannot be read, after marking the scan failed', async () => {
    const failures: string[] = [];
    const environment: ScanEnvironment = {
      settings: parseSettings({ AZURE_TENANT_ID: TENANT }),
      policy: DEFAULT_POLICY,
      reader: {
        organization: async () => {
          throw new Error('Exchange Online answered 503 three times');
        },
        licensedUsers: async function* () {},
        bypassAssociations: async function* () {},
        mailboxes: async function* () {},
        apiUsage: () => ({ calls: 0, throttled: 0 }),
      },
      recorder: {
        begin: async () => ({ mailItemsAccessedRefused: new Set() }),
        observe: async () => undefined,
        complete: async () => {
          throw new Error('a failed scan must not complete');
        },
        fail: async (reason) => {
          failures.push(reason);
        },
      },
      exchange: undefined as never,
    };
    const { context } = contextWithLogs();
    await expect(nightlyScanHandler(async (invocation) => ({ ...night(environment), logger: loggerFrom(invocation) }))(timer(), context)).rejects.toThrow('503 three times');
    expect(failures).toEqual(['Exchange Online answered 503 three times']);
  });
});
