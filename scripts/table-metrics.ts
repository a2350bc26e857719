import type { PipelinePolicy } from '../shared/store/tables';

export interface TableOperationCounts {
  /** GET requests (queries and point reads). */
  readRequests: number;
  /** Entities those reads returned. */
  entitiesRead: number;
  /** Requests that write: single-entity writes and transactions. */
  writeRequests: number;
  /** Entities written (or deleted): each sub-operation of a transaction counts once. */
  entityWrites: number;
  /** Table create / delete / list. */
  tableOperations: number;
}

const SUB_REQUEST = /^(POST|PUT|PATCH|MERGE|DELETE) \S+ HTTP\/1\.1/gm;

/**
 * Counts Table Storage operations at the HTTP pipeline, below every repository, so nothing that
 * reaches the service goes uncounted: the benchmark's "writes follow change" figure comes from here.
 * Add `counter.policy` to StoreConnection.additionalPolicies (position 'perRetry' counts retries too).
 */
export class TableOperationCounter {
  private counts: TableOperationCounts = zero();

  readonly policy: PipelinePolicy = {
    name: 'audit-warden-table-operation-counter',
    sendRequest: async (request, next) => {
      const path = new URL(request.url).pathname;
      const response = await next(request);
      if (/\/Tables(\(|$)/.test(path)) {
        this.counts.tableOperations++;
      } else if (request.method === 'GET') {
        this.counts.readRequests++;
        this.counts.entitiesRead += entitiesIn(response.bodyAsText);
      } else {
        this.counts.writeRequests++;
        const body = typeof request.body === 'string' ? request.body : '';
        this.counts.entityWrites += path.endsWith('/$batch') ? (body.match(SUB_REQUEST)?.length ?? 0) : 1;
      }
      return response;
    },
  };

  snapshot(): TableOperationCounts {
    return { ...this.counts };
  }

  reset(): TableOperationCounts {
    const before = this.snapshot();
    this.counts = zero();
    return before;
  }
}

function zero(): TableOperationCounts {
  return { readRequests: 0, entitiesRead: 0, writeRequests: 0, entityWrites: 0, tableOperations: 0 };
}

function entitiesIn(body: string | undefined | null): number {
  if (!body) return 0;
  try {
    const parsed = JSON.parse(body) as { value?: unknown[] };
    return Array.isArray(parsed.value) ? parsed.value.length : 1;
  } catch {
    return 0;
  }
}
