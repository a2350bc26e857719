import { loadSettings } from '../../config/settings';
import { allPages, historyFromSettings } from '../../services/history';
import { outputFormat, SCAN_COLUMNS, SCAN_TEXT_COLUMNS, writeRows } from '../../services/history-output';
import { parseFlags } from '../args';
import { EXIT, type CliCommand, type CliIO } from '../io';
import type { HistoryCommandDeps } from './findings';

const USAGE = `Usage: audit-warden scans [--json|--csv]

The recorded scan runs, newest first: status (running, completed, failed, interrupted), duration,
mailboxes, findings opened / resolved / gone, API calls, throttled calls, rule errors.

  --json   a JSON array; --csv: CSV for spreadsheets

Exit codes: 0 listed, 1 bad flags or settings, 3 Table Storage failed.`;

export function scansCommand(deps: HistoryCommandDeps = {}): CliCommand {
  return {
    name: 'scans',
    summary: 'list recorded scan runs, newest first',
    usage: USAGE,
    async run(args: string[], io: CliIO): Promise<number> {
      const { values } = parseFlags('scans', args, {
        json: { type: 'boolean', default: false },
        csv: { type: 'boolean', default: false },
      });
      const format = outputFormat(values);
      const history = (deps.openHistory ?? historyFromSettings)(loadSettings(io.env));
      const rows = allPages((continuationToken) => history.scans({ pageSize: 1000, continuationToken }));
      await writeRows(io.stdout, format, format === 'text' ? SCAN_TEXT_COLUMNS : SCAN_COLUMNS, rows, 'No scans recorded.\n');
      return EXIT.ok;
    },
  };
}
