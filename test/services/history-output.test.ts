import { csvCell, csvRecord, textTable } from '../../shared/services/tabular';
import { configurationPairs, outputFormat, writeRows } from '../../shared/services/history-output';

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

  it('refuses --json with --csv', () => {
    expect(() => outputFormat({ json: true, csv: true })).toThrow(/Choose one/);
    expect(outputFormat({})).toBe('text');
  });
});
