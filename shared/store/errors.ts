import { ServiceError } from '../errors';
import { redactSecrets } from '../errors/redact';

/**
 * Storage errors as people should read them: what we were doing, where (endpoint without
 * credentials), what the service said. Connection strings carry the account key and SAS URLs carry
 * signatures, so every message is passed through `redactSecrets` before it leaves this module.
 */

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH']);

interface RestErrorLike {
  statusCode?: number;
  code?: string;
  message?: string;
  details?: { odataError?: { code?: string; message?: { value?: string } } };
}

export function statusOf(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null ? (error as RestErrorLike).statusCode : undefined;
}

export function isConditionFailed(error: unknown): boolean {
  return statusOf(error) === 412;
}

export function isNotFound(error: unknown): boolean {
  return statusOf(error) === 404;
}

export function isConflict(error: unknown): boolean {
  return statusOf(error) === 409;
}

/** Turns anything the Tables SDK throws into a ServiceError('storage') with a readable, secret-free message. */
export function storageError(error: unknown, doing: string, endpoint: string): ServiceError {
  if (error instanceof ServiceError) return error;
  const rest = (typeof error === 'object' && error !== null ? error : {}) as RestErrorLike;
  const code = rest.details?.odataError?.code || rest.code;
  const statusCode = rest.statusCode;
  if (code && NETWORK_CODES.has(code)) {
    return new ServiceError(
      `Cannot reach Table Storage at ${endpoint} while ${doing} (${code}). Check AzureWebJobsStorage and that the storage account (or Azurite) is running.`,
      'storage',
      undefined,
      code,
      { cause: error, transient: true },
    );
  }
  const said = firstLine(rest.details?.odataError?.message?.value ?? rest.message ?? String(error));
  const transient = statusCode === undefined || statusCode === 408 || statusCode === 429 || statusCode >= 500;
  return new ServiceError(
    redactSecrets(`Table Storage failed while ${doing}${statusCode ? ` (HTTP ${statusCode}${code ? ` ${code}` : ''})` : ''}: ${said}`),
    'storage',
    statusCode,
    code || undefined,
    { cause: error, transient },
  );
}

function firstLine(text: string): string {
  // Service messages carry "RequestId:..." and "Time:..." lines that help nobody reading a CLI error.
  const line = text.split(/\r?\n/)[0] ?? text;
  return line.replace(/^\d+:/, '').trim();
}
