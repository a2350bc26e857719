/**
 * Server-side paging state, as Graph and Exchange keep it behind their opaque skip tokens. The
 * first request of a query resolves its members once (an index array) and stores them; every
 * following page is a slice of that array, so a page costs O(page) whatever the tenant size.
 */
import type { Prng } from './prng';

export interface PagedQuery<T> {
  /** Tenant indices of the members, in order; null means "all of `total`, in tenant order". */
  readonly indices: Uint32Array | null;
  readonly total: number;
  /** What the API layer needs to serve later pages (cmdlet, body fingerprint, ...). */
  readonly context: T;
}

export class PagedQueryStore<T> {
  private readonly queries = new Map<string, PagedQuery<T>>();

  /**
   * @param capacity Queries kept at once; the oldest is dropped first, and its token then fails as
   *   an expired page token would.
   */
  constructor(
    private readonly prng: Prng,
    private readonly capacity = 256,
  ) {}

  add(query: PagedQuery<T>): string {
    const id = `${this.prng.nextUint32().toString(36)}${this.prng.nextUint32().toString(36)}`;
    this.queries.set(id, query);
    if (this.queries.size > this.capacity) {
      const oldest = this.queries.keys().next().value;
      if (oldest !== undefined) this.queries.delete(oldest);
    }
    return id;
  }

  get(id: string): PagedQuery<T> | undefined {
    return this.queries.get(id);
  }
}

/** Opaque to clients: base64url of "<query id>:<offset>". */
export function encodeSkipToken(queryId: string, offset: number): string {
  return Buffer.from(`${queryId}:${offset}`, 'utf8').toString('base64url');
}

export function decodeSkipToken(token: string): { queryId: string; offset: number } | undefined {
  const text = Buffer.from(token, 'base64url').toString('utf8');
  const match = /^([0-9a-z]+):(\d+)$/.exec(text);
  if (!match) return undefined;
  return { queryId: match[1] as string, offset: Number(match[2]) };
}

export function memberAt(query: PagedQuery<unknown>, position: number): number {
  return query.indices ? (query.indices[position] as number) : position;
}

/**
 * The next page's URL: the request's own query (minus any old $skiptoken) plus the new token, as
 * Graph and Exchange build it. Clients must follow it as an opaque absolute URL.
 */
export function nextLinkFor(baseUrl: string, url: URL, token: string): string {
  const kept = url.search
    .replace(/^\?/, '')
    .split('&')
    .filter((part) => part !== '' && !/^(\$|%24)?skiptoken=/i.test(part));
  kept.push(`$skiptoken=${token}`);
  return `${baseUrl}${url.pathname}?${kept.join('&')}`;
}
