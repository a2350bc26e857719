import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ValidationError } from '../errors';

/** node:util parseArgs, with its errors turned into a ValidationError that names the flag. */
export function parseFlags<T extends NonNullable<ParseArgsConfig['options']>>(
  command: string,
  args: string[],
  options: T,
  allowPositionals = false,
) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (error) {
    throw new ValidationError(`${command}: ${(error as Error).message}`, 'command line', [], { cause: error });
  }
}
