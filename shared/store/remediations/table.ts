import type { StoreTables } from '../tables';

/**
 * Table `remediations`: the ledger of every change Audit Warden planned, applied and verified, one
 * row per idempotency key (hash of finding, episode and change), plus two small kinds of rows.
 *
 * - Ledger, PartitionKey `tenant|bucket(objectId)`, RowKey `r|<idempotencyKey>` (ledger.ts).
 *   Written `queued` when the change is enqueued; the worker claims it (`applying`, with a lease
 *   naming the queue message) *before* calling Exchange — the intent — then records `applied`, and
 *   the verifier `verified` / `failed` / `blocked`. A redelivered message finds the row and knows
 *   whether the change was made, may have been made (a crash after the call: check the tenant
 *   before calling again), or is finished (acknowledge and do nothing). Every write carries the
 *   ETag it read.
 * - Budget, PartitionKey `tenant|budget`, RowKey `yyyymmdd` (UTC): automatic changes granted that
 *   night, for the blast-radius limit (budget.ts). Incremented with ETags, so two planners cannot
 *   both spend it. A ledger row granted from it names the day (`budgetDay`); if the change ends
 *   blocked (the tenant refused it, so nothing changed) its unit is given back, once (`budgetReleased`).
 * - Dead letters, PartitionKey `deadletter|yyyymm`, RowKey `invertedTime|queue|messageId`: messages
 *   that could not be read at all, or exhausted their retries (dead-letters.ts). Nothing leaves a
 *   queue unrecorded.
 */
export function remediationsTable(tables: StoreTables): string {
  return `${tables.names.prefix}remediations`;
}

const MAX_TEXT = 30_000;

/** Free text (descriptions, service messages, sent bodies) kept under the 64 KiB property limit. */
export function truncate(text: string): string {
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text;
}

export function safeJson<T>(text: string, fallback: T): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    // Truncated on write (over the property limit): keep what can be read.
    return fallback;
  }
}

/**
 * The budget row is one hot row that every worker of a night writes: after a lost ETag race, wait a
 * jittered, growing moment so that the writers fall out of lockstep instead of colliding again.
 */
export function contentionPause(attempt: number): Promise<void> {
  const ms = Math.min(500, 5 * 2 ** Math.min(attempt, 6)) * (0.5 + Math.random());
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The error of a row that stayed contended through every retry (a 412 with words, for storageError). */
export function keptChanging(): Error & { statusCode: number } {
  return Object.assign(new Error('the row changed under every attempt (ETag mismatch)'), { statusCode: 412 });
}
