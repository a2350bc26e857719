import type { CliCommand } from '../io';
import { findingsCommand } from './findings';
import { historyCommand } from './history';
import { scanCommand } from './scan';
import { scansCommand } from './scans';

/** Every command, in the order `audit-warden --help` lists them. Each lives in its own file here. */
export const commands: CliCommand[] = [scanCommand(), findingsCommand(), historyCommand(), scansCommand()];
