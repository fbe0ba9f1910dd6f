/**
 * The local COPY … FORMAT AS JSON 'auto': a staged object holds JSON objects one after another, with or without
 * whitespace or newlines between them (Firehose adds no delimiter), and each object is one row whose top-level keys
 * name the columns.
 */

export type JsonRow = Record<string, unknown>;

function skipWhitespace(text: string, from: number): number {
  let at = from;
  while (at < text.length && /\s/.test(text.charAt(at))) at += 1;
  return at;
}

/** Index just past the string literal that opens at `start`. */
function endOfString(text: string, start: number): number {
  for (let at = start + 1; at < text.length; at += 1) {
    const char = text.charAt(at);
    if (char === '\\') at += 1;
    else if (char === '"') return at + 1;
  }
  throw new SyntaxError(`Unterminated string starting at offset ${start}`);
}

/** Index just past the JSON value that starts at `start` (assumed well formed; JSON.parse checks it afterwards). */
function endOfValue(text: string, start: number): number {
  const first = text.charAt(start);
  if (first === '"') return endOfString(text, start);
  if (first !== '{' && first !== '[') {
    let at = start;
    while (at < text.length && !/[\s,}\]]/.test(text.charAt(at))) at += 1;
    return at;
  }
  let depth = 0;
  for (let at = start; at < text.length; at += 1) {
    const char = text.charAt(at);
    if (char === '"') at = endOfString(text, at) - 1;
    else if (char === '{' || char === '[') depth += 1;
    else if (char === '}' || char === ']') {
      depth -= 1;
      if (depth === 0) return at + 1;
    }
  }
  throw new SyntaxError(`Unterminated JSON value starting at offset ${start}`);
}

/** The raw text of each top-level member value, so numbers can be read exactly. */
function rawMembers(objectText: string): Map<string, string> {
  const members = new Map<string, string>();
  let at = skipWhitespace(objectText, 1);
  while (objectText.charAt(at) === '"') {
    const keyEnd = endOfString(objectText, at);
    const key = JSON.parse(objectText.slice(at, keyEnd)) as string;
    const valueStart = skipWhitespace(objectText, skipWhitespace(objectText, keyEnd) + 1);
    const valueEnd = endOfValue(objectText, valueStart);
    members.set(key, objectText.slice(valueStart, valueEnd));
    at = skipWhitespace(objectText, valueEnd);
    if (objectText.charAt(at) === ',') at = skipWhitespace(objectText, at + 1);
  }
  return members;
}

/**
 * Redshift reads a JSON number as the decimal text it is; a JavaScript number would round `1.10` to `1.1` and lose
 * digits past 2^53. A number that does not survive the round trip is handed on as its literal text.
 */
function exactNumber(literal: string, parsed: number): number | string {
  return String(parsed) === literal ? parsed : literal;
}

function toRow(objectText: string): JsonRow {
  const parsed: unknown = JSON.parse(objectText);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new SyntaxError('Expected a JSON object');
  const row = parsed as JsonRow;
  // Only a number needs its literal text: an object without one at the top (an invoice) is not read a second time, and
  // its row is what JSON.parse gives.
  if (!Object.values(row).some((value) => typeof value === 'number')) return row;
  for (const [key, raw] of rawMembers(objectText)) {
    const value = row[key];
    if (typeof value === 'number') row[key] = exactNumber(raw, value);
  }
  return row;
}

/** Where each of concatenated or newline-delimited JSON objects starts and ends; throws SyntaxError (with the offset) where none does. */
export function* jsonObjectSpans(text: string): Generator<[start: number, end: number]> {
  let at = skipWhitespace(text, text.charCodeAt(0) === 0xfeff ? 1 : 0);
  while (at < text.length) {
    if (text.charAt(at) !== '{') throw new SyntaxError(`Expected a JSON object at offset ${at}`);
    const end = endOfValue(text, at);
    yield [at, end];
    at = skipWhitespace(text, end);
  }
}

/** The row of the object at [start, end) of `text`; throws SyntaxError (with the offset) when it is not a JSON object. */
export function parseJsonObjectAt(text: string, start: number, end: number): JsonRow {
  try {
    return toRow(text.slice(start, end));
  } catch (error) {
    throw new SyntaxError(`Invalid JSON object at offset ${start}: ${(error as Error).message}`);
  }
}

/** Parses concatenated or newline-delimited JSON objects; throws SyntaxError (with the offset) on anything else. */
export function parseJsonObjects(text: string): JsonRow[] {
  const rows: JsonRow[] = [];
  for (const [start, end] of jsonObjectSpans(text)) rows.push(parseJsonObjectAt(text, start, end));
  return rows;
}

/**
 * A row for `columns`: JSON 'auto' matches keys to column names exactly, 'auto ignorecase' without case. Missing keys
 * are NULL; nested objects and arrays load as their JSON text, as Redshift loads them into a character column.
 */
export function rowForColumns(object: JsonRow, columns: readonly string[], ignoreCase: boolean): JsonRow {
  const lookup = ignoreCase ? new Map(Object.keys(object).map((key) => [key.toLowerCase(), key])) : undefined;
  const row: JsonRow = {};
  for (const column of columns) {
    const key = lookup ? lookup.get(column.toLowerCase()) : Object.hasOwn(object, column) ? column : undefined;
    const value = key === undefined ? undefined : object[key];
    row[column] = typeof value === 'object' && value !== null ? JSON.stringify(value) : (value ?? null);
  }
  return row;
}
