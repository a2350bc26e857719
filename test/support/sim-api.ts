import { GRAPH_RESOURCE, EXCHANGE_RESOURCE, type SimulatedTenantServer } from '../../sim';

/** Plain-fetch clients for the simulated APIs, so the tests exercise the wire protocol only. */

export interface JsonResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

export async function readJson<T = Record<string, unknown>>(response: Response): Promise<JsonResponse<T>> {
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : undefined) as T };
}

export function graphToken(server: SimulatedTenantServer): string {
  return server.issueToken(`${GRAPH_RESOURCE}/.default`);
}

export function exchangeToken(server: SimulatedTenantServer): string {
  return server.issueToken(`${EXCHANGE_RESOURCE}/.default`);
}

export async function graphGet<T = Record<string, unknown>>(
  server: SimulatedTenantServer,
  pathOrUrl: string,
  headers: Record<string, string> = {},
): Promise<JsonResponse<T>> {
  const url = pathOrUrl.startsWith('http') ? pathOrUrl : `${server.baseUrl}/v1.0${pathOrUrl}`;
  return readJson<T>(await fetch(url, { headers: { authorization: `Bearer ${graphToken(server)}`, ...headers } }));
}

export async function graphPost<T = Record<string, unknown>>(server: SimulatedTenantServer, path: string, body: unknown): Promise<JsonResponse<T>> {
  return readJson<T>(
    await fetch(`${server.baseUrl}/v1.0${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${graphToken(server)}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }),
  );
}

export interface InvokeOptions {
  select?: string[];
  pageSize?: number;
  /** POST to this URL instead (a nextLink). */
  url?: string;
  token?: string;
  tenantSegment?: string;
}

export interface ExchangeBody {
  '@odata.context'?: string;
  '@odata.nextLink'?: string;
  '@adminapi.warnings'?: string[];
  value?: Record<string, unknown>[];
  error?: { code: string; message: string; details?: { message: string }[]; innererror?: { internalException?: { message: string } } };
}

export function invokeUrl(server: SimulatedTenantServer, options: InvokeOptions = {}): string {
  const base = `${server.baseUrl}/adminapi/beta/${options.tenantSegment ?? server.tenantId}/InvokeCommand`;
  return options.select ? `${base}?$select=${options.select.join(',')}` : base;
}

export async function invoke(
  server: SimulatedTenantServer,
  cmdlet: string,
  parameters: Record<string, unknown> = {},
  options: InvokeOptions = {},
): Promise<JsonResponse<ExchangeBody>> {
  const headers: Record<string, string> = {
    authorization: `Bearer ${options.token ?? exchangeToken(server)}`,
    'content-type': 'application/json',
  };
  if (options.pageSize !== undefined) headers.prefer = `odata.maxpagesize=${options.pageSize}`;
  const response = await fetch(options.url ?? invokeUrl(server, options), {
    method: 'POST',
    headers,
    body: JSON.stringify({ CmdletInput: { CmdletName: cmdlet, Parameters: parameters } }),
  });
  return readJson<ExchangeBody>(response);
}

/** Follows nextLink with the same body until the end; returns every record and the page count. */
export async function invokeAll(
  server: SimulatedTenantServer,
  cmdlet: string,
  parameters: Record<string, unknown> = {},
  options: InvokeOptions = {},
): Promise<{ records: Record<string, unknown>[]; pages: number; warnings: string[] }> {
  const records: Record<string, unknown>[] = [];
  const warnings: string[] = [];
  let url: string | undefined = invokeUrl(server, options);
  let pages = 0;
  while (url) {
    const page: JsonResponse<ExchangeBody> = await invoke(server, cmdlet, parameters, { ...options, url });
    if (page.status !== 200) throw new Error(`${cmdlet} page ${pages + 1} failed with ${page.status}: ${JSON.stringify(page.body)}`);
    records.push(...(page.body.value ?? []));
    warnings.push(...(page.body['@adminapi.warnings'] ?? []));
    pages++;
    url = page.body['@odata.nextLink'];
  }
  return { records, pages, warnings };
}

/** Exchange's error text: the part after "<errorId>|<exception class>|". */
export function exchangeErrorText(body: ExchangeBody): string {
  const message = body.error?.details?.[0]?.message ?? '';
  return message.split('|').slice(2).join('|');
}

/** "<ruleId>|<objectId>[|<logonType>]": the same key the product uses, written out here so the sim tests need nothing from shared/. */
export function findingKey(finding: { ruleId: string; objectId: string; logonType?: string }): string {
  return finding.logonType ? `${finding.ruleId}|${finding.objectId}|${finding.logonType}` : `${finding.ruleId}|${finding.objectId}`;
}

/** The oracle's findings for one object as "<ruleId>[/<logonType>]", sorted. */
export function oracleFindingsFor(findings: readonly { ruleId: string; objectId: string; logonType?: string }[], objectId: string): string[] {
  return findings
    .filter((finding) => finding.objectId === objectId)
    .map((finding) => (finding.logonType ? `${finding.ruleId}/${finding.logonType}` : finding.ruleId))
    .sort();
}

export const HASHTABLE = '#Exchange.GenericHashTable';
