import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { createQueryEventsHandler } from '../../../functions/query-events';
import { createQueryFindingsHandler } from '../../../functions/query-findings';
import { createQueryHistoryHandler } from '../../../functions/query-history';
import { createQueryScansHandler } from '../../../functions/query-scans';
import { HistoryService } from '../../../shared/services/history';
import { HistoryApi } from '../../../shared/web/query-api';
import { openStore } from '../../../shared/store/open';
import { INJECTIONS, recordedHistory } from '../../support/history';
import { day } from '../../support/fixtures/scan';
import { TENANT } from '../../support/fixtures/tenant';
import { objectIdOf } from '../../support/fixtures/user';
import { registrationsOf } from '../../support/registrations';

type Handler = (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>;

function context() {
  const lines: Array<{ level: string; args: unknown[] }> = [];
  return { lines, context: new InvocationContext({ invocationId: 'test', functionName: 'query', logHandler: (level, ...args) => lines.push({ level, args }) }) };
}

async function get(handler: Handler, path: string, query: Record<string, string> = {}, params: Record<string, string> = {}) {
  const url = new URL(`http://localhost/api/${path}`);
  for (const [key, value] of Object.entries(query)) url.searchParams.append(key, value);
  const response = await handler(new HttpRequest({ method: 'GET', url: url.toString(), params }), context().context);
  return { status: response.status ?? 200, body: response.jsonBody as { items?: Array<Record<string, unknown>>; continuationToken?: string; error?: string; parameter?: string } & Record<string, unknown> };
}

describe('drift-history HTTP functions', () => {
  let findings: Handler;
  let history: Handler;
  let events: Handler;
  let scans: Handler;
  let historyFor: (mailbox: string, query?: Record<string, string>) => ReturnType<typeof get>;

  beforeAll(async () => {
    const recorded = await recordedHistory();
    const api = new HistoryApi(() => recorded.history);
    findings = createQueryFindingsHandler(api);
    history = createQueryHistoryHandler(api);
    events = createQueryEventsHandler(api);
    scans = createQueryScansHandler(api);
    historyFor = (mailbox, query = {}) => get(history, `mailboxes/${encodeURIComponent(mailbox)}/history`, query, { mailbox });
  });

  it('registers four GET routes with function-level keys', () => {
    const routes = ['query-findings', 'query-history', 'query-events', 'query-scans'].flatMap((name) => registrationsOf(`../../functions/${name}`));
    expect(routes.map(({ kind, name, options }) => ({ kind, name, authLevel: options.authLevel, methods: options.methods, route: options.route }))).toEqual([
      { kind: 'http', name: 'query-findings', authLevel: 'function', methods: ['GET'], route: 'findings' },
      { kind: 'http', name: 'query-history', authLevel: 'function', methods: ['GET'], route: 'mailboxes/{mailbox}/history' },
      { kind: 'http', name: 'query-events', authLevel: 'function', methods: ['GET'], route: 'events' },
      { kind: 'http', name: 'query-scans', authLevel: 'function', methods: ['GET'], route: 'scans' },
    ]);
  });

  it('GET findings: filtered, paged, the function key ignored', async () => {
    const all = await get(findings, 'findings', { code: 'the-function-key' });
    expect(all.status).toBe(200);
    expect(all.body.items).toHaveLength(5);
    const low = await get(findings, 'findings', { severity: 'low', rule: 'mailbox-audit-disabled', mailbox: 'USER3@contoso.example' });
    expect(low.body.items?.map((item) => item.objectId)).toEqual([objectIdOf(3)]);
    // AuditEnabled False on a user mailbox is low since the 2026 pack: nothing is critical in this history.
    expect((await get(findings, 'findings', { severity: 'critical', rule: 'mailbox-audit-disabled' })).body.items).toEqual([]);

    const keys: unknown[] = [];
    let token: string | undefined;
    do {
      const page = await get(findings, 'findings', { status: 'all', pageSize: '3', ...(token ? { continuationToken: token } : {}) });
      expect(page.status).toBe(200);
      keys.push(...page.body.items!.map((item) => item.key));
      token = page.body.continuationToken;
    } while (token);
    expect(keys).toHaveLength(7);
    expect(new Set(keys).size).toBe(7);
  });

  it('GET mailboxes/{mailbox}/history: events, window, configuration at a time', async () => {
    const byUpn = await historyFor('user1@contoso.example');
    expect(byUpn.status).toBe(200);
    expect(byUpn.body.items?.map((item) => item.type)).toEqual(['resolved', 'detected']);
    const windowed = await historyFor(objectIdOf(1), { from: '2026-02-01', to: '2026-02-28' });
    expect(windowed.body.items?.map((item) => item.type)).toEqual(['resolved']);
    const at = await historyFor('user3@contoso.example', { at: '2026-02-11' });
    expect(at.body.configuration).toMatchObject({ inForceSince: day(40).toISOString(), configuration: { auditEnabled: false } });
    const atDateOnly = await historyFor('user3@contoso.example', { at: '2026-02-10' });
    expect(atDateOnly.body.configuration).toMatchObject({ inForceSince: day(40).toISOString() }, );
  });

  it('GET events and GET scans', async () => {
    const page = await get(events, 'events', { from: '2026-02-01', to: '2026-02-28', type: 'resolved' });
    expect(page.status).toBe(200);
    expect(page.body.items?.map((item) => item.objectId)).toEqual([objectIdOf(1)]);
    const runs = await get(scans, 'scans', { pageSize: '1' });
    expect(runs.body.items?.map((item) => item.startedAt)).toEqual([day(45).toISOString()]);
    expect(typeof runs.body.continuationToken).toBe('string');
  });

  it.each([
    ['findings', { rule: 'no-such-rule' }, 'rule'],
    ['findings', { severity: 'urgent' }, 'severity'],
    ['findings', { status: 'closed' }, 'status'],
    ['findings', { mailbox: '' }, 'mailbox'],
    ['findings', { pageSize: '0' }, 'pageSize'],
    ['findings', { pageSize: '1001' }, 'pageSize'],
    ['findings', { pageSize: '1e3' }, 'pageSize'],
    ['findings', { continuationToken: 'garbage' }, 'continuationToken'],
    ['findings', { colour: 'red' }, 'colour'],
    ['events', { from: '2026-02-30' }, 'from'],
    ['events', { to: 'yesterday' }, 'to'],
    ['events', { from: '2026-02-10', to: '2026-02-01' }, 'from'],
    ['events', { type: 'deleted' }, 'type'],
    ['events', { rule: 'mailbox' }, 'rule'],
    ['scans', { pageSize: '-1' }, 'pageSize'],
    ['scans', { rule: 'mailbox-audit-disabled' }, 'rule'],
  ] as const)('GET %s with %j answers 400 naming %s', async (route, query, parameter) => {
    const handler = { findings: () => findings, events: () => events, scans: () => scans }[route]();
    const response = await get(handler, route, query);
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ error: expect.stringContaining(parameter), parameter });
  });

  it('answers 400 for bad history parameters too', async () => {
    expect((await historyFor(objectIdOf(1), { at: '2026-13-01' })).body).toMatchObject({ parameter: 'at' });
    expect((await historyFor(objectIdOf(1), { from: 'x' })).body).toMatchObject({ parameter: 'from' });
    expect((await historyFor(objectIdOf(1), { mailbox: 'x' })).body).toMatchObject({ parameter: 'mailbox' });
    expect((await get(findings, 'findings', {}, {})).status).toBe(200);
    const twice = new URL('http://localhost/api/findings?rule=mailbox-audit-disabled&rule=mailbox-audit-log-age-short');
    const response = await findings(new HttpRequest({ method: 'GET', url: twice.toString() }), context().context);
    expect(response).toMatchObject({ status: 400, jsonBody: { parameter: 'rule' } });
  });

  describe.each(INJECTIONS)('injection %s', (attempt) => {
    it('is refused or finds nothing, in every parameter', async () => {
      for (const [handler, route, parameters] of [
        [findings, 'findings', ['rule', 'severity', 'status', 'mailbox', 'pageSize', 'continuationToken']],
        [events, 'events', ['from', 'to', 'rule', 'type', 'pageSize', 'continuationToken']],
        [scans, 'scans', ['pageSize', 'continuationToken']],
      ] as const) {
        for (const parameter of parameters) {
          const response = await get(handler, route, { [parameter]: attempt });
          if (response.status === 400) expect(response.body.parameter).toBe(parameter);
          else expect({ parameter, status: response.status, items: response.body.items }).toEqual({ parameter, status: 200, items: [] });
        }
      }
      const inPath = await historyFor(attempt, { at: '2026-02-11' });
      expect(inPath).toMatchObject({ status: 200, body: { items: [], configuration: null } });
      for (const parameter of ['from', 'to', 'at', 'pageSize', 'continuationToken']) {
        expect((await historyFor(objectIdOf(1), { [parameter]: attempt })).body).toMatchObject({ parameter });
      }
    });
  });

  it('answers 503 without internals when storage cannot be reached', async () => {
    const unreachable = openStore({
      connectionString:
        'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=c2VjcmV0LWtleS1mb3ItdGVzdHM=;TableEndpoint=http://127.0.0.1:1/devstoreaccount1',
      maxRetries: 0,
    });
    const handler = createQueryFindingsHandler(new HistoryApi(() => new HistoryService(unreachable, TENANT)));
    const { context: ctx, lines } = context();
    const response = await handler(new HttpRequest({ method: 'GET', url: 'http://localhost/api/findings' }), ctx);
    expect(response.status).toBe(503);
    expect(JSON.stringify(response.jsonBody)).not.toMatch(/127\.0\.0\.1|AccountKey|c2VjcmV0/);
    expect(JSON.stringify(lines)).toMatch(/Cannot reach Table Storage at http:\/\/127\.0\.0\.1:1\/devstoreaccount1/);
    expect(JSON.stringify(lines)).not.toMatch(/c2VjcmV0/);
  });
});
