import { odata } from '@azure/data-tables';
import { invertedTime, monthOf } from '../keys';
import { readAll } from '../paging';
import type { StoreTables } from '../tables';
import { remediationsTable, safeJson, truncate } from './table';
import { textOf } from '../../text';

export interface DeadLetter {
  at: Date;
  queue: string;
  messageId: string;
  dequeueCount: number;
  /** The message as received, truncated. */
  text: string;
  error: string;
  issues: string[];
  tenantId?: string;
  idempotencyKey?: string;
}

/** Queue messages that could not be read or exhausted their retries, by month: nothing leaves a queue unrecorded. */
export class DeadLetterLog {
  constructor(private readonly tables: StoreTables) {}

  private get tableName(): string {
    return remediationsTable(this.tables);
  }

  async record(letter: DeadLetter): Promise<void> {
    await this.tables.ensure(this.tableName);
    const entity = {
      partitionKey: `deadletter|${monthOf(letter.at)}`,
      rowKey: `${invertedTime(letter.at)}|${letter.queue}|${letter.messageId.replace(/[^A-Za-z0-9._-]/g, '_')}`,
      at: letter.at.toISOString(),
      queue: letter.queue,
      messageId: letter.messageId,
      dequeueCount: letter.dequeueCount,
      text: truncate(letter.text),
      error: truncate(letter.error),
      issues: truncate(JSON.stringify(letter.issues)),
      tenantId: letter.tenantId ?? '',
      idempotencyKey: letter.idempotencyKey ?? '',
    };
    try {
      // Upsert on a key built from the message id: recording the same dead message twice is one row.
      await this.tables.client(this.tableName).upsertEntity(entity, 'Replace');
    } catch (error) {
      throw this.tables.fail(error, 'recording a dead-letter message');
    }
  }

  /** Dead letters recorded in a month (`yyyymm`), newest first. */
  async inMonth(month: string): Promise<DeadLetter[]> {
    const letters: DeadLetter[] = [];
    for await (const entity of readAll<Record<string, unknown>>(this.tables, this.tableName, odata`PartitionKey eq ${`deadletter|${month}`}`, 'reading dead-letter messages')) {
      letters.push({
        at: new Date(String(entity.at)),
        queue: String(entity.queue),
        messageId: String(entity.messageId),
        dequeueCount: Number(entity.dequeueCount),
        text: textOf(entity.text),
        error: textOf(entity.error),
        issues: safeJson<string[]>(textOf(entity.issues) || '[]', []),
        ...(entity.tenantId ? { tenantId: textOf(entity.tenantId) } : {}),
        ...(entity.idempotencyKey ? { idempotencyKey: textOf(entity.idempotencyKey) } : {}),
      });
    }
    return letters;
  }
}
