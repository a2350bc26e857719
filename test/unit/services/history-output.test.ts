import { csvCell, csvRecord, textTable } from '../../../shared/services/tabular';
import { configurationPairs, outputFormat, writeRows } from '../../../shared/services/history-output';

describe('CSV cells', () => {
  it.each([
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\r\nlines', '"two\r\nlines"'],
    [' padded ', '" padded "'],
    ['=1+1', "'=1+1"],
    ['+49 30 1234', "'+49 30 1234"],
    ['-2', "'-2"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\t=cmd', "'\t=cmd"],
    ['=HYPERLINK("x","y")', `"'=HYPERLINK(""x"",""y"")"`],
    ['a=b', 'a=b'],
  ])('%j → %j', (value, cell) => {
    expect(csvCell(value)).toBe(cell);
  });

  it('prints values: empty for none, JSON for structures, ISO for dates; records end in CRLF', () => {
    expect(csvRecord([undefined, null, 3, true, ['a', 'b'], new Date(0)])).toBe(',,3,true,"[""a"",""b""]",1970-01-01T00:00:00.000Z\r\n');
  });
});

describe('output', () => {
  const columns = [{ header: 'name', value: (row: { name: string }) => row.name }];
  async function* rows(...names: string[]) {
    for (const name of names) yield { name };
  }
  const sink = () => {
    let text = '';
    return { write: (chunk: string) => (text += chunk), text: () => text };
  };

  it('streams JSON as one array', async () => {
    const out = sink();
    expect(await writeRows(out, 'json', columns, rows('a', 'b'))).toBe(2);
    expect(JSON.parse(out.text())).toEqual([{ name: 'a' }, { name: 'b' }]);
    const empty = sink();
    await writeRows(empty, 'json', columns, rows());
    expect(JSON.parse(empty.text())).toEqual([]);
  });

  it('shows control characters escaped in the terminal table', () => {
    expect(textTable(columns, [{ name: 'evil\u001b[2Jname' }])).toBe('name\nevil\\u001b[2Jname\n');
  });

  it('flattens a configuration to property/value pairs', () => {
    const pairs = configurationPairs({
      objectId: 'o',
      userPrincipalName: 'u@x',
      inForceSince: '2026-01-01T00:00:00.000Z',
      scanId: 's',
      configuration: { auditEnabled: true, auditActions: { Owner: ['A', 'B'] }, persistedCapabilities: null },
    });
    expect(pairs).toContainEqual(['auditEnabled', 'true']);
    expect(pairs).toContainEqual(['auditActions.Owner', 'A;B']);
    expect(pairs).toContainEqual(['persistedCapabilities', '']);
  });

  it('puts the coverage verdict first, per logon type with its reasons', () => {
    const recorded = { state: 'recorded' as const, reasons: [] };
    const pairs = configurationPairs({
      objectId: 'o',
      userPrincipalName: 'u@x',
      inForceSince: '2026-01-01T00:00:00.000Z',
      scanId: 's',
      coverage: {
        verdict: 'not-recorded',
        byLogonType: { Owner: { state: 'not-recorded', reasons: ['audit-bypass-enabled', 'mailbox-audit-log-age-short'] }, Delegate: recorded, Admin: { state: 'at-risk', reasons: ['audit-actions-missing'] } },
      },
      configuration: { auditEnabled: true },
    });
    expect(pairs.slice(0, 4)).toEqual([
      ['coverage', 'reads NOT recorded'],
      ['coverage.Owner', 'reads NOT recorded (audit-bypass-enabled, mailbox-audit-log-age-short)'],
      ['coverage.Delegate', 'reads recorded'],
      ['coverage.Admin', 'reads recorded, at risk (audit-actions-missing)'],
    ]);
  });

  it('says the verdict is unknown for a snapshot recorded before verdicts existed', () => {
    const pairs = configurationPairs({ objectId: 'o', userPrincipalName: 'u@x', inForceSince: '2026-01-01T00:00:00.000Z', scanId: 's', configuration: {} });
    expect(pairs[0]).toEqual(['coverage', expect.stringMatching(/^unknown/)]);
    expect(pairs.map(([name]) => name)).not.toContain('coverage.Owner');
  });

  it('refuses --json with --csv', () => {
    expect(() => outputFormat({ json: true, csv: true })).toThrow(/Choose one/);
    expect(outputFormat({})).toBe('text');
  });
});
