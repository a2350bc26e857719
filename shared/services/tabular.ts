import { textOf } from '../text';
/**
 * Rows for people and spreadsheets: CSV (RFC 4180) and a plain aligned text table.
 *
 * Auditors open exports in Excel or Google Sheets, which execute a cell that starts with
 * = + - @ (or a tab / carriage return that hides one) as a formula. Values here come from the
 * tenant (UPNs, display values, reasons typed by admins), so such cells are neutralised with a
 * leading apostrophe — the spreadsheet then shows the text as typed.
 */
export interface Column<T> {
  header: string;
  value: (row: T) => unknown;
}

const FORMULA_START = /^[=+\-@\t\r]/;

export function cellText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (value instanceof Date) return value.toISOString();
  return textOf(value);
}

export function csvCell(value: unknown): string {
  let text = cellText(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One CSV record, CRLF-terminated as RFC 4180 asks. */
export function csvRecord(values: unknown[]): string {
  return `${values.map(csvCell).join(',')}\r\n`;
}

export function csvHeader<T>(columns: Column<T>[]): string {
  return csvRecord(columns.map((column) => column.header));
}

export function csvRow<T>(columns: Column<T>[], row: T): string {
  return csvRecord(columns.map((column) => column.value(row)));
}

/** Aligned columns for a terminal; control characters are shown escaped so a value cannot redraw the screen. */
export function textTable<T>(columns: Column<T>[], rows: T[]): string {
  const cells = rows.map((row) => columns.map((column) => printable(cellText(column.value(row)))));
  const widths = columns.map((column, index) => Math.max(column.header.length, ...cells.map((line) => line[index]!.length)));
  const line = (values: string[]) => values.map((value, index) => value.padEnd(widths[index]!)).join('  ').trimEnd();
  return [line(columns.map((column) => column.header)), ...cells.map(line)].join('\n') + '\n';
}

function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Compact UTC time for terminals: 2026-03-01 14:05Z. */
export function shortTime(iso: string | undefined): string {
  return iso ? `${iso.slice(0, 10)} ${iso.slice(11, 16)}Z` : '';
}
