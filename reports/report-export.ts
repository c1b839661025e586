// The report's data for other tools: CSV of the daily rows (one per day, market and arm, as a
// spreadsheet or a BI tool wants them) and JSON of everything (ReportData as is).
import type { ReportData } from './report-data.ts';

/**
 * One CSV field per RFC 4180: quoted when it holds a comma, a quote, a line break or edge spaces,
 * with quotes doubled. Written by hand because the only CSV dependency adloop has parses.
 */
export function csvField(v: string | number | null): string {
  if (v === null) return '';
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : v;
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Rounded to 6 decimals (a micro of money), without float noise like 0.30000000000000004. */
const n6 = (v: number | null) => (v === null ? null : Math.round(v * 1e6) / 1e6);

export const REPORT_CSV_COLUMNS = [
  'date',
  'market',
  'arm',
  'currency',
  'spend',
  'impressions',
  'clicks',
  'registrations',
  'subscriptions',
  'ctr',
  'cpr',
  'cps',
] as const;

/** The daily rows: a header, then one line per day and market, CRLF line ends (RFC 4180). */
export function reportCsv(data: ReportData): string {
  const lines = [REPORT_CSV_COLUMNS.join(',')];
  for (const d of data.days) {
    lines.push(
      [
        d.date,
        d.market,
        d.arm,
        data.currency,
        n6(d.spend),
        d.impressions,
        d.clicks,
        d.registrations,
        d.subscriptions,
        d.ctr,
        n6(d.cpr),
        n6(d.cps),
      ]
        .map(csvField)
        .join(','),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** The report's data as JSON (what `collectReportData` returned). */
export function reportJson(data: ReportData): string {
  return `${JSON.stringify(data, null, 2)}\n`;
}
