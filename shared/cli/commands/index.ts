import type { CliCommand } from '../io';
import { scanCommand } from './scan';

/** Every command, in the order `audit-warden --help` lists them. Each lives in its own file here. */
export const commands: CliCommand[] = [scanCommand()];
