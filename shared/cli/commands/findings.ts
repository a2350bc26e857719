import { loadSettings, type Settings } from '../../config/settings';
import { allPages, historyFromSettings, type HistoryService } from '../../services/history';
import { FINDING_COLUMNS, FINDING_TEXT_COLUMNS, outputFormat, writeRows } from '../../services/history-output';
import { findingsQuerySchema, FINDING_STATUS_FILTERS, flagName, parseQueryParameters } from '../../services/history-params';
import { parseFlags } from '../args';
import { EXIT, type CliCommand, type CliIO } from '../io';

const USAGE = `Usage: audit-warden findings [--rule RULE] [--severity S] [--status S] [--mailbox M] [--json|--csv]

Lists the findings recorded in Table Storage (by default the active ones: not resolved, not gone).

  --rule RULE     only this rule, e.g. mailitemsaccessed-missing
  --severity S    critical, high, medium or low
  --status S      ${FINDING_STATUS_FILTERS.join(', ')} (default: active)
  --mailbox M     one mailbox, by object id or UPN
  --json          a JSON array; --csv: CSV for spreadsheets

Exit codes: 0 listed, 1 bad flags or settings, 3 Table Storage failed.`;

export interface HistoryCommandDeps {
  /** Opens the tenant's history; tests pass one over their own tables. */
  openHistory?: (settings: Settings) => HistoryService;
}

export function findingsCommand(deps: HistoryCommandDeps = {}): CliCommand {
  return {
    name: 'findings',
    summary: 'list recorded findings (open by default) from the drift history',
    usage: USAGE,
    async run(args: string[], io: CliIO): Promise<number> {
      const { values } = parseFlags('findings', args, {
        rule: { type: 'string' },
        severity: { type: 'string' },
        status: { type: 'string' },
        mailbox: { type: 'string' },
        json: { type: 'boolean', default: false },
        csv: { type: 'boolean', default: false },
      });
      const format = outputFormat(values);
      const query = parseQueryParameters(
        findingsQuerySchema,
        { rule: values.rule, severity: values.severity, status: values.status, mailbox: values.mailbox },
        flagName,
      );
      const history = (deps.openHistory ?? historyFromSettings)(loadSettings(io.env));
      const rows = allPages((continuationToken) => history.findings({ ...query, pageSize: 1000, continuationToken }));
      await writeRows(io.stdout, format, format === 'text' ? FINDING_TEXT_COLUMNS : FINDING_COLUMNS, rows, 'No findings.\n');
      return EXIT.ok;
    },
  };
}
