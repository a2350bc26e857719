import { findingsCommand } from '../../../shared/cli/commands/findings';
import { historyCommand } from '../../../shared/cli/commands/history';
import { scansCommand } from '../../../shared/cli/commands/scans';
import { reportFailure, type CliCommand } from '../../../shared/cli/io';
import type { HistoryService } from '../../../shared/services/history';
import { FORMULA_REASON, INJECTIONS, QUOTED_UPN, recordedHistory } from '../../support/history';
import { day } from '../../support/fixtures/scan';
import { TENANT } from '../../support/fixtures/tenant';
import { objectIdOf } from '../../support/fixtures/user';
import { runCli } from '../../support/cli';

const ENV = { AZURE_TENANT_ID: TENANT };

/** RFC 4180: fields separated by commas, records by CRLF, quoted fields may hold both and "" for a quote. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let index = 0;
  while (index < text.length) {
    const char = text[index]!;
    if (char === '"' && field === '') {
      index++;
      for (;;) {
        const next = text.indexOf('"', index);
        if (next < 0) throw new Error('unterminated quoted field');
        field += text.slice(index, next);
        if (text[next + 1] === '"') {
          field += '"';
          index = next + 2;
        } else {
          index = next + 1;
          break;
        }
      }
    } else if (char === ',') {
      record.push(field);
      field = '';
      index++;
    } else if (text.startsWith('\r\n', index)) {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      index += 2;
    } else if (char === '\n' || char === '\r' || char === '"') {
      throw new Error(`bare ${JSON.stringify(char)} at ${index}: not RFC 4180`);
    } else {
      field += char;
      index++;
    }
  }
  if (field !== '' || record.length > 0) throw new Error('last record not terminated by CRLF');
  return records;
}

describe('audit-warden findings / history / scans', () => {
  let history: HistoryService;
  let findings: CliCommand;
  let historyCli: CliCommand;
  let scans: CliCommand;

  /** As main() runs a command: errors become a message and an exit code. */
  async function run(command: CliCommand, args: string[]) {
    let stdout = '';
    let stderr = '';
    const io = { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) }, env: ENV };
    let code: number;
    try {
      code = await command.run(args, io);
    } catch (error) {
      code = reportFailure(io, error);
    }
    return { code, stdout, stderr };
  }

  beforeAll(async () => {
    ({ history } = await recordedHistory());
    const deps = { openHistory: () => history };
    findings = findingsCommand(deps);
    historyCli = historyCommand(deps);
    scans = scansCommand(deps);
  });

  it('findings: a table for people, JSON for programs', async () => {
    const text = await run(findings, []);
    expect(text.code).toBe(0);
    expect(text.stdout.split('\n')[0]).toMatch(/^SEVERITY\s+RULE\s+LOGON\s+STATUS\s+MAILBOX\s+FIRST SEEN\s+LAST SEEN$/);
    expect(text.stdout).toContain('user3@contoso.example');
    expect(text.stdout.trim().split('\n')).toHaveLength(6);

    const json = await run(findings, ['--json', '--severity', 'high']);
    const rows = JSON.parse(json.stdout) as Array<{ objectId: string; logonType: string }>;
    expect(rows.map((row) => `${row.objectId.slice(-1)}:${row.logonType}`).sort()).toEqual(['2:Admin', '2:Owner', '6:Delegate']);
    expect(JSON.parse((await run(findings, ['--json', '--rule', 'audit-bypass-enabled'])).stdout)).toEqual([]);
  });

  it('findings --csv is RFC 4180 and safe to open in a spreadsheet', async () => {
    const result = await run(findings, ['--csv', '--status', 'all']);
    expect(result.code).toBe(0);
    const records = parseCsv(result.stdout);
    const [header, ...rows] = records;
    expect(header).toEqual(['severity', 'rule', 'logonType', 'status', 'userPrincipalName', 'objectId', 'firstSeen', 'lastSeen', 'expected', 'actual', 'exceptionReason', 'exceptionExpires']);
    expect(rows).toHaveLength(7);
    expect(rows.every((row) => row.length === header!.length)).toBe(true);
    // A quote and a comma survive the round trip.
    expect(rows.find((row) => row[2] === 'Delegate')?.[4]).toBe(QUOTED_UPN);
    // A formula is shown as text, not executed.
    expect(rows.find((row) => row[1] === 'mailbox-audit-log-age-short' && row[3] === 'excepted')?.[10]).toBe(`'${FORMULA_REASON}`);
    expect(result.stdout).toContain(`"'=HYPERLINK(""http://evil.example"",""click"")"`);
  });

  it('history: events newest first, by UPN, in a window, as CSV', async () => {
    const text = await run(historyCli, ['--mailbox', 'user1@contoso.example']);
    expect(text.code).toBe(0);
    expect(text.stdout.split('\n').slice(1, 3).map((line) => line.split(/\s{2,}/)[1])).toEqual(['resolved', 'detected']);

    const csv = parseCsv((await run(historyCli, ['--mailbox', objectIdOf(1), '--from', '2026-01-01', '--to', '2026-01-31', '--csv'])).stdout);
    expect(csv.slice(1).map((row) => row[1])).toEqual(['detected']);
    expect(JSON.parse(csv[1]![9]!)).toEqual({ expected: true, actual: false });

    // A mailbox some scan recorded, with nothing in the window: clean, exit 0.
    const quiet = await run(historyCli, ['--mailbox', 'user3@contoso.example', '--from', '2025-01-01', '--to', '2025-02-01']);
    expect(quiet).toMatchObject({ code: 0, stdout: 'No drift recorded for user3@contoso.example (scanned, nothing found).\n' });
  });

  it('history: a mailbox no scan ever recorded is an error, never "no drift"', async () => {
    for (const mailbox of ['nobody@contoso.example', '0b0b0b0b-0000-4000-8000-000000000000', 'svc-typo']) {
      const unknown = await run(historyCli, ['--mailbox', mailbox]);
      expect(unknown.code).toBe(1);
      expect(unknown.stdout).toBe('');
      expect(unknown.stderr).toContain(`no scan has recorded a mailbox or account "${mailbox}"`);
      expect((await run(historyCli, ['--mailbox', mailbox, '--at', '2026-02-01'])).code).toBe(1);
    }
  });

  it('history --at: the configuration in force then', async () => {
    const json = JSON.parse((await run(historyCli, ['--mailbox', 'user3@contoso.example', '--at', '2026-01-20', '--json'])).stdout) as {
      configuration: { inForceSince: string; coverage?: { verdict: string }; configuration: { auditEnabled: boolean } };
    };
    expect(json.configuration).toMatchObject({ inForceSince: day(1).toISOString(), coverage: { verdict: 'recorded' }, configuration: { auditEnabled: true } });

    const csv = parseCsv((await run(historyCli, ['--mailbox', 'user3@contoso.example', '--at', '2026-02-11T08:00:00Z', '--csv'])).stdout);
    expect(csv[0]).toEqual(['property', 'value']);
    // The verdict first: AuditEnabled False on a user mailbox leaves its reads recorded, at risk.
    expect(csv[1]).toEqual(['coverage', 'reads recorded, at risk']);
    expect(csv).toContainEqual(['coverage.Owner', 'reads recorded, at risk (mailbox-audit-disabled)']);
    expect(csv).toContainEqual(['auditEnabled', 'false']);
    expect(csv).toContainEqual(['auditActions.Owner', 'MailItemsAccessed;Update;MoveToDeletedItems;SoftDelete;HardDelete']);

    const before = await run(historyCli, ['--mailbox', 'user3@contoso.example', '--at', '2025-06-01']);
    expect(before).toMatchObject({ code: 0, stdout: '' });
    expect(before.stderr).toContain('No audit configuration of user3@contoso.example was recorded at or before 2025-06-01T23:59:59.999Z');
  });

  it('scans: newest first, as CSV', async () => {
    const csv = parseCsv((await run(scans, ['--csv'])).stdout);
    expect(csv[0]!.slice(0, 3)).toEqual(['startedAt', 'status', 'durationMs']);
    expect(csv.slice(1).map((row) => row[0])).toEqual([day(45), day(40), day(1)].map((date) => date.toISOString()));
    expect((await run(scans, [])).stdout).toMatch(/^STARTED\s+STATUS/);
  });

  it.each([
    [['--rule', 'nope'], '--rule'],
    [['--severity', 'urgent'], '--severity'],
    [['--status', 'closed'], '--status'],
    [['--mailbox', ''], '--mailbox'],
  ])('findings %j exits 1 naming %s', async (args, flag) => {
    const result = await run(findings, args);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`^audit-warden: ${flag} `));
    expect(result.stdout).toBe('');
  });

  it.each([
    [[], '--mailbox'],
    [['--mailbox', 'a@b.example', '--at', '2026-02-30'], '--at'],
    [['--mailbox', 'a@b.example', '--from', 'last week'], '--from'],
    [['--mailbox', 'a@b.example', '--to', '2026-01-01T25:00:00Z'], '--to'],
    [['--mailbox', 'a@b.example', '--at', '2026-02-01', '--from', '2026-01-01'], '--at'],
    [['--mailbox', 'a@b.example', '--from', '2026-02-01', '--to', '2026-01-01'], '--from'],
  ])('history %j exits 1 naming %s', async (args, flag) => {
    const result = await run(historyCli, args);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(flag);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses --json with --csv, and unknown flags', async () => {
    expect(await run(scans, ['--json', '--csv'])).toMatchObject({ code: 1, stderr: 'audit-warden: Choose one of --json and --csv.\n' });
    expect((await run(findings, ['--colour', 'red'])).stderr).toContain("Unknown option '--colour'");
  });

  it.each(INJECTIONS)('injection %s in any flag finds nothing it should not', async (attempt) => {
    for (const flag of ['--rule', '--severity', '--status']) expect((await run(findings, [flag, attempt])).code).toBe(1);
    expect(JSON.parse((await run(findings, ['--mailbox', attempt, '--json', '--status', 'all'])).stdout)).toEqual([]);
    // Matches no recorded mailbox: refused as unknown, nothing printed.
    expect(await run(historyCli, ['--mailbox', attempt, '--json'])).toMatchObject({ code: 1, stdout: '' });
    expect(await run(historyCli, ['--mailbox', attempt, '--at', '2026-02-11', '--json'])).toMatchObject({ code: 1, stdout: '' });
    for (const flag of ['--at', '--from', '--to']) expect((await run(historyCli, ['--mailbox', objectIdOf(1), flag, attempt])).code).toBe(1);
  });

  it('through main: listed in help, and exits 3 with a clean message when storage is down', async () => {
    const help = await runCli(['--help'], {});
    expect(help.stdout).toMatch(/findings\s+list recorded findings/);
    expect(help.stdout).toMatch(/history\s+one mailbox's drift history/);
    expect(help.stdout).toMatch(/scans\s+list recorded scan runs/);
    const key = 'c2VjcmV0LWtleS1mb3ItdGVzdHM=';
    const down = await runCli(['scans'], {
      ...ENV,
      AzureWebJobsStorage: `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${key};TableEndpoint=http://127.0.0.1:1/devstoreaccount1`,
    });
    expect(down.code).toBe(3);
    expect(down.stderr).toMatch(/^audit-warden: Cannot reach Table Storage at http:\/\/127\.0\.0\.1:1\/devstoreaccount1 while reading scan runs \(ECONNREFUSED\)/);
    expect(down.stderr).not.toContain(key);
    expect(down.stderr).not.toMatch(/\n\s+at /);
  }, 20_000);
});
