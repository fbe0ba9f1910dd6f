import { ratioToCeiling, type Figure } from './figure';

function number(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-GB');
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function cells(figure: Figure): string[] {
  const ratio = ratioToCeiling(figure);
  return [
    figure.label,
    `${number(figure.value)} ${figure.unit}`,
    figure.ceiling ? `${number(figure.ceiling.value)} ${figure.unit} (${figure.ceiling.label})` : '',
    ratio === undefined ? '' : ratio >= 10 ? `x${Math.round(ratio)}` : ratio.toFixed(2),
    figure.target ? `${figure.target.text}: ${figure.target.met ? 'met' : 'MISSED'}` : '',
    [figure.detail, figure.ceiling?.detail ? `ceiling: ${figure.ceiling.detail}` : ''].filter(Boolean).join('; '),
  ];
}

const HEADER = ['figure', 'value', 'ceiling', 'vs ceiling', 'target', 'detail'];

/** A plain-text table for the terminal. */
export function textTable(figures: readonly Figure[]): string {
  const rows = [HEADER, ...figures.map(cells)];
  const widths = HEADER.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0)));
  return rows.map((row) => row.map((cell, column) => (column === 5 ? cell : cell.padEnd(widths[column] ?? 0))).join('  ').trimEnd()).join('\n');
}

/** The same table in Markdown, for the README. */
export function markdownTable(figures: readonly Figure[]): string {
  const line = (row: string[]) => `| ${row.map((cell) => cell.replaceAll('|', '\\|')).join(' | ')} |`;
  return [line(HEADER), line(HEADER.map(() => '---')), ...figures.map((figure) => line(cells(figure)))].join('\n');
}
