import { loadSettings } from '../../config/settings';
import { allPages, historyFromSettings } from '../../services/history';
import { EVENT_COLUMNS, EVENT_TEXT_COLUMNS, outputFormat, writeConfiguration, writeRows } from '../../services/history-output';
import { flagName, historyQuerySchema, parseQueryParameters, QueryParameterError } from '../../services/history-params';
import { parseFlags } from '../args';
import { EXIT, type CliCommand, type CliIO } from '../io';
import type { HistoryCommandDeps } from './findings';

const USAGE = `Usage: audit-warden history --mailbox M [--from DATE] [--to DATE] [--json|--csv]
       audit-warden history --mailbox M --at DATE [--json|--csv]

One mailbox's drift history (object id or UPN), newest first: when each finding was detected,
excepted, resolved, approved, remediated... With --at, its audit configuration as it was then
(the snapshot in force at that time) instead.

  --mailbox M    object id or UPN (an old UPN still finds the mailbox)
  --from DATE    events at or after DATE (2026-03-01 or 2026-03-01T12:00:00Z)
  --to DATE      events at or before DATE (a date alone means the end of that day, UTC)
  --at DATE      the configuration in force at DATE
  --json         JSON; --csv: CSV for spreadsheets

Exit codes: 0 listed (a mailbox with no drift says so), 1 bad flags or settings, or no scan has
ever recorded that mailbox (so "clean" and "never seen" never look alike), 3 Table Storage failed.`;

export function historyCommand(deps: HistoryCommandDeps = {}): CliCommand {
  return {
    name: 'history',
    summary: "one mailbox's drift history, or its audit configuration at a date (--at)",
    usage: USAGE,
    async run(args: string[], io: CliIO): Promise<number> {
      const { values } = parseFlags('history', args, {
        mailbox: { type: 'string' },
        at: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        json: { type: 'boolean', default: false },
        csv: { type: 'boolean', default: false },
      });
      const format = outputFormat(values);
      const query = parseQueryParameters(historyQuerySchema, { mailbox: values.mailbox, at: values.at, from: values.from, to: values.to }, flagName);
      if (query.at && (query.from || query.to)) {
        throw new QueryParameterError('--at', '--at shows the configuration at one time; it cannot be combined with --from or --to');
      }
      const history = (deps.openHistory ?? historyFromSettings)(loadSettings(io.env));

      if (query.at) {
        const { mailbox, configuration } = await history.configurationAt(query.mailbox, query.at);
        if (!configuration && !(await history.everRecorded(mailbox))) return neverSeen(io, mailbox.query);
        writeConfiguration(io.stdout, format, configuration, { mailbox, at: query.at.toISOString() });
        if (!configuration) {
          io.stderr.write(`No audit configuration of ${mailbox.query} was recorded at or before ${query.at.toISOString()}.\n`);
        }
        return EXIT.ok;
      }

      const identity = await history.resolveMailbox(query.mailbox);
      const rows = allPages((continuationToken) =>
        history.mailboxHistory({ mailbox: identity.objectId, from: query.from, to: query.to, pageSize: 1000, continuationToken }),
      );
      // "No drift" is only said of a mailbox some scan has seen: an unknown or mistyped one is an error.
      if (!(await history.everRecorded(identity))) return neverSeen(io, identity.query);
      const count = await writeRows(io.stdout, format, format === 'text' ? EVENT_TEXT_COLUMNS : EVENT_COLUMNS, rows, `No drift recorded for ${identity.query} (scanned, nothing found).\n`);
      if (count === 0 && format !== 'text') io.stderr.write(`No drift recorded for ${identity.query} (scanned, nothing found).\n`);
      return EXIT.ok;
    },
  };
}

function neverSeen(io: CliIO, mailbox: string): number {
  io.stderr.write(
    `audit-warden: no scan has recorded a mailbox or account "${mailbox}". Check the spelling; give a UPN or object id ` +
      '(a bypass association by the object id its finding shows). A mailbox with no drift would say "No drift recorded".\n',
  );
  return EXIT.usage;
}
