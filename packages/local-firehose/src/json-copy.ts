/**
 * The local COPY … FORMAT AS JSON 'auto': a staged object holds JSON objects one after another, with or without
 * whitespace or newlines between them (Firehose adds no delimiter), and each object is one row whose top-level keys
 * name the columns.
 */

export type JsonRow = Record<string, unknown>;

// The scanners below read char codes: a staged file of the dataset is ~170 MB of JSON text, and a regular expression or
// a one-character string per character made this the local COPY's largest cost. `\s` keeps its meaning (JavaScript's
// whitespace, which JSON.parse then judges), so what is accepted has not changed.
const SPACE_LIKE = /\s/;

function isWhitespace(text: string, at: number): boolean {
  const code = text.charCodeAt(at);
  if (code === 32 || (code >= 9 && code <= 13)) return true;
  return code > 127 && SPACE_LIKE.test(text.charAt(at));
}

function skipWhitespace(text: string, from: number): number {
  let at = from;
  while (at < text.length && isWhitespace(text, at)) at += 1;
  return at;
}

const QUOTE = 34;
const BACKSLASH = 92;

/** Index just past the string literal that opens at `start`: the first quote after it not escaped by an odd run of backslashes. */
function endOfString(text: string, start: number): number {
  for (let from = start + 1; ; ) {
    const quote = text.indexOf('"', from);
    if (quote < 0) throw new SyntaxError(`Unterminated string starting at offset ${start}`);
    let backslashes = 0;
    while (quote - backslashes - 1 > start && text.charCodeAt(quote - backslashes - 1) === BACKSLASH) backslashes += 1;
    if (backslashes % 2 === 0) return quote + 1;
    from = quote + 1;
  }
}

/** Index just past the JSON value that starts at `start` (assumed well formed; JSON.parse checks it afterwards). */
function endOfValue(text: string, start: number): number {
  const first = text.charCodeAt(start);
  if (first === QUOTE) return endOfString(text, start);
  if (first !== 123 && first !== 91) {
    let at = start;
    for (; at < text.length; at += 1) {
      const code = text.charCodeAt(at);
      if (code === 44 || code === 125 || code === 93 || isWhitespace(text, at)) break; // , } ]
    }
    return at;
  }
  let depth = 0;
  for (let at = start; at < text.length; at += 1) {
    const code = text.charCodeAt(at);
    if (code === QUOTE) at = endOfString(text, at) - 1;
    else if (code === 123 || code === 91) depth += 1; // { [
    else if (code === 125 || code === 93) {
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
  while (objectText.charCodeAt(at) === QUOTE) {
    const keyEnd = endOfString(objectText, at);
    const keyText = objectText.slice(at + 1, keyEnd - 1);
    const key = keyText.includes('\\') ? (JSON.parse(objectText.slice(at, keyEnd)) as string) : keyText;
    const valueStart = skipWhitespace(objectText, skipWhitespace(objectText, keyEnd) + 1);
    const valueEnd = endOfValue(objectText, valueStart);
    members.set(key, objectText.slice(valueStart, valueEnd));
    at = skipWhitespace(objectText, valueEnd);
    if (objectText.charCodeAt(at) === 44) at = skipWhitespace(objectText, at + 1); // ,
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

/**
 * A top-level member's number literal follows its key's closing quote and a colon. This finds every one of them (a
 * match ends at the first character no number has, so it never swallows the next member), and look-alikes inside
 * strings (`"a\\":5.0"`), which at worst send the object to the literal-by-literal reading (rawMembers).
 */
const MEMBER_NUMBER = /"\s*:\s*(-?\d[\d.eE+-]*)/g;

/** Every top-level number literal is written as JavaScript writes that number, so JSON.parse's value is exact. */
function numbersAsWritten(objectText: string): boolean {
  for (const [, literal = ''] of objectText.matchAll(MEMBER_NUMBER)) if (String(Number(literal)) !== literal) return false;
  return true;
}

function toRow(objectText: string): JsonRow {
  const parsed: unknown = JSON.parse(objectText);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new SyntaxError('Expected a JSON object');
  const row = parsed as JsonRow;
  // Only a number needs its literal text: an object without one at the top (an invoice), or whose numbers are written
  // as JavaScript writes them (the stream processor's rows: line_no, quantity), is what JSON.parse gives.
  if (!Object.values(row).some((value) => typeof value === 'number') || numbersAsWritten(objectText)) return row;
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
    if (text.charCodeAt(at) !== 123) throw new SyntaxError(`Expected a JSON object at offset ${at}`);
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

const BLANK_LINE = /^[ \t\r]*$/;

/**
 * Newline-delimited objects, one a line, as the stream processor's rows are staged: each line goes to JSON.parse
 * whole, with no scan for where its object ends (a raw newline is never inside a JSON string). Undefined when the text
 * is anything else (objects run together or across lines, a BOM, other whitespace, bad JSON): the scanner then reads
 * it, and says where it is wrong.
 */
function parseJsonLines(text: string): JsonRow[] | undefined {
  const rows: JsonRow[] = [];
  for (let from = 0; from < text.length; ) {
    const newline = text.indexOf('\n', from);
    const end = newline < 0 ? text.length : newline;
    const line = text.slice(from, end);
    from = end + 1;
    if (line.charCodeAt(0) !== 123) {
      if (BLANK_LINE.test(line)) continue;
      return undefined;
    }
    try {
      rows.push(toRow(line));
    } catch {
      return undefined;
    }
  }
  return rows;
}

/** Parses concatenated or newline-delimited JSON objects; throws SyntaxError (with the offset) on anything else. */
export function parseJsonObjects(text: string): JsonRow[] {
  const lines = parseJsonLines(text);
  if (lines) return lines;
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
