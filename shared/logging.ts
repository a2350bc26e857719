/**
 * The logger services write to. Functions pass the invocation's context (its log methods have this
 * shape); the command line passes one that writes to stderr. Fields carry ids (tenant, scan,
 * finding), never secrets.
 */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: Logger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** Adapts anything with Functions-style log methods (InvocationContext) to Logger. */
export function loggerFrom(target: {
  log(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}): Logger {
  const format = (message: string, fields?: Record<string, unknown>) =>
    fields && Object.keys(fields).length > 0 ? [message, fields] : [message];
  return {
    info: (message, fields) => target.log(...format(message, fields)),
    warn: (message, fields) => target.warn(...format(message, fields)),
    error: (message, fields) => target.error(...format(message, fields)),
  };
}
