import type { TableEntityResult } from '@azure/data-tables';
import { isNotFound } from './errors';
import type { StoreTables } from './tables';

/** One page as the store reads it: items plus the SDK's continuation token (the service wraps it). */
export interface Page<T> {
  items: T[];
  next?: string;
}

export interface PageRequest {
  pageSize: number;
  /** The SDK's continuation token from the previous page. */
  next?: string;
}

/**
 * Reads one page of a query. Azure may answer a filtered query with an empty page and a
 * continuation token (partition boundaries, the 5 s budget); we keep reading until there is
 * something to return or nothing left, so callers never see an empty page that is not the end.
 * A table that does not exist yet (no event in that month) reads as empty.
 */
export async function readPage<E extends object, T>(
  tables: StoreTables,
  table: string,
  filter: string,
  request: PageRequest,
  map: (entity: TableEntityResult<E>) => T,
  doing: string,
  select?: string[],
): Promise<Page<T>> {
  let token = request.next;
  try {
    for (;;) {
      const iterator = tables
        .client(table)
        .listEntities<E>({ queryOptions: { filter, ...(select ? { select } : {}) } })
        .byPage({ maxPageSize: request.pageSize, ...(token ? { continuationToken: token } : {}) });
      const result = await iterator.next();
      if (result.done) return { items: [] };
      const page = result.value;
      token = page.continuationToken;
      if (page.length > 0 || !token) return { items: page.map(map), next: token };
    }
  } catch (error) {
    if (isNotFound(error)) return { items: [] };
    throw tables.fail(error, doing);
  }
}

/** Every entity matching a filter, page by page, as an async iterator (memory stays one page). */
export async function* readAll<E extends object>(
  tables: StoreTables,
  table: string,
  filter: string,
  doing: string,
  select?: string[],
): AsyncGenerator<TableEntityResult<E>> {
  let token: string | undefined;
  do {
    const page = await readPage<E, TableEntityResult<E>>(tables, table, filter, { pageSize: 1000, next: token }, (entity) => entity, doing, select);
    yield* page.items;
    token = page.next;
  } while (token);
}
