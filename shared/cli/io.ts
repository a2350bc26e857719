import type { TokenCredential } from '@azure/identity';
import { describeError, isServiceError, ValidationError } from '../errors';
import type { Logger } from '../logging';

/** Exit codes of every audit-warden command (documented in the README). */
export const EXIT = {
  ok: 0,
  /** Bad flags, settings, policy file or other input: the message names what is wrong. */
  usage: 1,
  /** The scan completed and found drift. */
  drift: 2,
  /** Graph, Exchange Online or Storage failed or could not be reached. */
  service: 3,
  /** A bug: please report it with the message. */
  unexpected: 70,
} as const;

/** Where a command writes; tests pass buffers, the launcher passes the process streams. */
export interface CliIO {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  env: Record<string, string | undefined>;
  /** Overrides DefaultAzureCredential (tests, or an embedding tool with its own sign-in). */
  credential?: TokenCredential;
}

export interface CliCommand {
  name: string;
  summary: string;
  usage: string;
  run(args: string[], io: CliIO): Promise<number>;
}

export function processIO(): CliIO {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env };
}

/** A Logger for services run from the command line: one line per message on stderr. */
/**
 * Log lines for a person at a terminal: `warn Message (key value, key value)`. Fields are the same
 * the Functions host logs as structured data; here they read as words, not JSON.
 */
export function stderrLogger(io: CliIO): Logger {
  const line = (level: string, message: string, fields?: Record<string, unknown>) => {
    io.stderr.write(`${level} ${message}${readableFields(fields)}\n`);
  };
  return {
    info: (message, fields) => line('info', message, fields),
    warn: (message, fields) => line('warn', message, fields),
    error: (message, fields) => line('error', message, fields),
  };
}

/** Prints an error the way a person wants to read it and returns the matching exit code. */
export function reportFailure(io: CliIO, error: unknown): number {
  io.stderr.write(`audit-warden: ${describeError(error)}\n`);
  if (error instanceof ValidationError) return EXIT.usage;
  if (isServiceError(error)) return EXIT.service;
  return EXIT.unexpected;
}

/** `(key value, key value)`; nested values as `key=value`, lists joined with commas. */
export function readableFields(fields: Record<string, unknown> | undefined): string {
  if (!fields) return '';
  const show = (value: unknown): string => {
    if (Array.isArray(value)) return value.map(show).join(', ');
    if (value !== null && typeof value === 'object') {
      return Object.entries(value as Record<string, unknown>)
        .map(([key, inner]) => `${key}=${show(inner)}`)
        .join(' ');
    }
    return String(value);
  };
  const parts = Object.entries(fields)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key} ${show(value)}`);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}
