import type { CliCommand } from '../io';
import { approveCommand, rejectCommand } from './approve';
import { findingsCommand } from './findings';
import { historyCommand } from './history';
import { remediateCommand } from './remediate';
import { scanCommand } from './scan';
import { scansCommand } from './scans';
import { serveCommand } from './serve';

/** Every command, in the order `audit-warden --help` lists them. Each lives in its own file here. */
export const commands: CliCommand[] = [
  scanCommand(),
  findingsCommand(),
  historyCommand(),
  scansCommand(),
  remediateCommand(),
  approveCommand(),
  rejectCommand(),
  serveCommand(),
];
