import type { RowWrite } from '../../../shared/store/batch-writer';
import { chunkRows, MAX_BATCH } from '../../../shared/store/batch-writer';
import { redactSecrets } from '../../../shared/errors/redact';
import { BUCKETS, bucketOf, decodeKeyPart, encodeKeyPart, invertedHour, invertedTime, prefixEnd } from '../../../shared/store/keys';
import { describeEndpoint, TableNames } from '../../../shared/store/tables';

describe('table keys', () => {
  it.each([
    'plain-guid-8f0e3f6a',
    'a/b\\c#d?e',
    'ctl\u0000\u0001\u001f\u007f\u0085end',
    "x' or PartitionKey ne '",
    'pipe|tilde~percent%plus+',
    'ünïcødé 用户@contoso.example',
    '',
  ])('encodes %j to a key part with no forbidden character, and back', (value) => {
    const encoded = encodeKeyPart(value);
    // eslint-disable-next-line no-control-regex
    expect(encoded).not.toMatch(/[/\\#?\u0000-\u001f\u007f-\u009f|'%+]/);
    expect(encoded).toMatch(/^[\x20-\x7e]*$/);
    expect(decodeKeyPart(encoded)).toBe(value);
  });

  it('orders inverted times newest first, as fixed-width strings', () => {
    const older = invertedTime(new Date('2026-01-01T00:00:00Z'));
    const newer = invertedTime(new Date('2026-01-01T00:00:00.001Z'));
    expect(newer < older).toBe(true);
    expect(older).toHaveLength(16);
    expect(invertedTime(new Date(0))).toHaveLength(16);
    expect(invertedHour(new Date('2026-02-10T01:00:00Z')) < invertedHour(new Date('2026-02-10T00:59:59Z'))).toBe(true);
    expect(invertedHour(new Date('2026-02-10T00:59:59Z'))).toBe(invertedHour(new Date('2026-02-10T00:00:00Z')));
    for (const edge of [new Date(0), new Date('1900-01-01T00:00:00Z'), new Date('3000-01-01T00:00:00Z'), new Date(8.64e15)]) {
      expect(invertedHour(edge)).toHaveLength(7);
    }
    expect(invertedHour(new Date(0)) > invertedHour(new Date('2026-02-10T00:00:00Z'))).toBe(true);
    expect(`${older}|x` < prefixEnd(older)).toBe(true);
  });

  it('spreads object ids over the buckets, case-insensitively', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) seen.add(bucketOf(`00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`));
    expect(seen.size).toBeGreaterThan(BUCKETS * 0.95);
    expect(bucketOf('ABC-def')).toBe(bucketOf('abc-DEF'));
  });

  it('refuses a table prefix that would make invalid table names', () => {
    expect(() => new TableNames('my-prefix')).toThrow(/table prefix/);
    expect(() => new TableNames('1abc')).toThrow(/table prefix/);
    expect(new TableNames('t1').eventShard(15)).toBe('t1driftevents15');
  });
});

describe('batching', () => {
  const row = (partition: string, rowKey: string, group?: string): RowWrite => ({
    table: 't',
    action: ['upsert', { partitionKey: partition, rowKey }],
    ...(group ? { group } : {}),
  });

  it('keeps each transaction to one partition, at most 100 rows, each row once, groups whole', () => {
    const rows: RowWrite[] = [];
    for (let i = 0; i < 250; i++) rows.push(row(`p${i % 3}`, `r${i}`));
    rows.push(row('p0', 'r0')); // the same entity again: must go to another transaction
    for (let i = 0; i < 60; i++) rows.push(row('p1', `g${i}`, `group${Math.floor(i / 30)}`));
    const chunks = chunkRows(rows);
    expect(chunks.flat().sort((a, b) => a - b)).toEqual(rows.map((_, index) => index));
    for (const chunk of chunks) {
      expect(chunk.length).toBeLessThanOrEqual(MAX_BATCH);
      expect(new Set(chunk.map((index) => rows[index]!.action[1].partitionKey)).size).toBe(1);
      expect(new Set(chunk.map((index) => rows[index]!.action[1].rowKey)).size).toBe(chunk.length);
    }
    for (const group of ['group0', 'group1']) {
      const holding = chunks.filter((chunk) => chunk.some((index) => rows[index]!.group === group));
      expect(holding).toHaveLength(1);
    }
  });
});

describe('secrets in storage messages', () => {
  it('are redacted', () => {
    const text = redactSecrets(
      'failed: DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=abc+/def==;EndpointSuffix=core.windows.net and https://acct.table.core.windows.net/t?sv=2020&sig=SECRET%2B&se=2026 Bearer eyJhbGciOi.x.y',
    );
    expect(text).not.toMatch(/abc\+\/def|SECRET|eyJhbGciOi/);
    expect(text).toContain('AccountKey=***');
  });

  it('describe the endpoint without the key', () => {
    expect(describeEndpoint('UseDevelopmentStorage=true')).toBe('http://127.0.0.1:10002/devstoreaccount1');
    expect(describeEndpoint('DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=k3y==;EndpointSuffix=core.windows.net')).toBe(
      'https://acct.table.core.windows.net',
    );
    expect(describeEndpoint('TableEndpoint=https://acct.table.core.windows.net/;SharedAccessSignature=sv=1&sig=s3cret')).toBe(
      'https://acct.table.core.windows.net',
    );
  });
});
