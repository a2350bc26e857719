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
export function stderrLogger(io: CliIO): Logger {
  const line = (level: string, message: string, fields?: Record<string, unknown>) => {
    const suffix = fields && Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : '';
    io.stderr.write(`${level} ${message}${suffix}\n`);
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
