import { randomBytes, randomUUID } from 'node:crypto';
import { invalidArgument } from './errors';

/**
 * S3 object keys as Firehose names them:
 * `{evaluated prefix}{DeliveryStreamName}-{DeliveryStreamVersion}-{yyyy-MM-dd-HH-mm-ss}-{uuid}[.gz]`.
 * Prefixes may hold `!{timestamp:<Java DateTimeFormatter pattern>}`, `!{firehose:random-string}` and (error prefixes
 * only) `!{firehose:error-output-type}`; a prefix without any expression gets the default `yyyy/MM/dd/HH/` after it.
 * Times are UTC.
 */

type TimestampToken = { kind: 'literal'; text: string } | { kind: 'field'; letter: string; width: number };

type PrefixPart =
  | { kind: 'literal'; text: string }
  | { kind: 'timestamp'; tokens: TimestampToken[] }
  | { kind: 'random-string' }
  | { kind: 'error-output-type' };

export interface KeyPrefix {
  readonly template: string;
  readonly parts: readonly PrefixPart[];
}

export type PrefixField = 'Prefix' | 'ErrorOutputPrefix';

const expressionPattern = /!\{([^}]*)\}/g;

/** Parses a Prefix or ErrorOutputPrefix once, at stream creation, so a bad expression fails CreateDeliveryStream. */
export function parsePrefix(template: string, field: PrefixField): KeyPrefix {
  const parts: PrefixPart[] = [];
  let last = 0;
  for (const match of template.matchAll(expressionPattern)) {
    if (match.index > last) parts.push({ kind: 'literal', text: template.slice(last, match.index) });
    parts.push(parseExpression(match[1] ?? '', field));
    last = match.index + match[0].length;
  }
  const rest = template.slice(last);
  if (rest.includes('!{')) throw invalidArgument(`Unterminated expression in ${field}: ${template}`);
  if (rest) parts.push({ kind: 'literal', text: rest });
  return { template, parts };
}

function parseExpression(body: string, field: PrefixField): PrefixPart {
  const colon = body.indexOf(':');
  const namespace = colon < 0 ? body : body.slice(0, colon);
  const value = colon < 0 ? '' : body.slice(colon + 1);
  if (namespace === 'timestamp') return { kind: 'timestamp', tokens: parseTimestampPattern(value) };
  if (namespace === 'firehose' && value === 'random-string') return { kind: 'random-string' };
  if (namespace === 'firehose' && value === 'error-output-type') {
    if (field === 'Prefix') throw invalidArgument('The expression !{firehose:error-output-type} is only allowed in ErrorOutputPrefix.');
    return { kind: 'error-output-type' };
  }
  if (namespace === 'partitionKeyFromQuery' || namespace === 'partitionKeyFromLambda') {
    throw invalidArgument(`Dynamic partitioning (!{${body}}) is not emulated by the local Firehose.`);
  }
  throw invalidArgument(`Unsupported expression !{${body}} in ${field}.`);
}

/** The subset of java.time.format.DateTimeFormatter letters that make sense in a key prefix. */
const supportedLetters: Record<string, number[]> = { y: [2, 4], M: [1, 2], d: [1, 2], H: [1, 2], m: [1, 2], s: [1, 2], S: [1, 2, 3], D: [1, 2, 3] };

function parseTimestampPattern(pattern: string): TimestampToken[] {
  if (!pattern) throw invalidArgument('Empty !{timestamp:} expression.');
  const tokens: TimestampToken[] = [];
  let i = 0;
  while (i < pattern.length) {
    const char = pattern.charAt(i);
    if (char === "'") {
      // Quoted literal; '' is a quote.
      const close = pattern.indexOf("'", i + 1);
      if (close < 0) throw invalidArgument(`Unterminated quote in timestamp pattern '${pattern}'.`);
      tokens.push({ kind: 'literal', text: close === i + 1 ? "'" : pattern.slice(i + 1, close) });
      i = close + 1;
    } else if (/[A-Za-z]/.test(char)) {
      let width = 1;
      while (pattern.charAt(i + width) === char) width += 1;
      if (!supportedLetters[char]?.includes(width)) {
        throw invalidArgument(`Timestamp pattern letter run '${char.repeat(width)}' in '${pattern}' is not supported locally.`);
      }
      tokens.push({ kind: 'field', letter: char, width });
      i += width;
    } else if ('[]{}#'.includes(char)) {
      throw invalidArgument(`Reserved character '${char}' in timestamp pattern '${pattern}'.`);
    } else {
      tokens.push({ kind: 'literal', text: char });
      i += 1;
    }
  }
  return tokens;
}

function formatField(at: Date, letter: string, width: number): string {
  const pad = (value: number, digits: number) => String(value).padStart(digits, '0');
  switch (letter) {
    case 'y':
      return width === 2 ? pad(at.getUTCFullYear() % 100, 2) : pad(at.getUTCFullYear(), 4);
    case 'M':
      return pad(at.getUTCMonth() + 1, width);
    case 'd':
      return pad(at.getUTCDate(), width);
    case 'H':
      return pad(at.getUTCHours(), width);
    case 'm':
      return pad(at.getUTCMinutes(), width);
    case 's':
      return pad(at.getUTCSeconds(), width);
    case 'S':
      return pad(at.getUTCMilliseconds(), 3).slice(0, width);
    case 'D': {
      const dayOfYear = Math.floor((at.getTime() - Date.UTC(at.getUTCFullYear(), 0, 1)) / 86_400_000) + 1;
      return pad(dayOfYear, width);
    }
    default:
      throw new Error(`unreachable timestamp letter ${letter}`);
  }
}

export function formatTimestamp(at: Date, pattern: string): string {
  return parseTimestampPattern(pattern)
    .map((token) => (token.kind === 'literal' ? token.text : formatField(at, token.letter, token.width)))
    .join('');
}

export function hasExpressions(prefix: KeyPrefix): boolean {
  return prefix.parts.some((part) => part.kind !== 'literal');
}

function hasPart(prefix: KeyPrefix, kind: PrefixPart['kind']): boolean {
  return prefix.parts.some((part) => part.kind === kind);
}

/** Firehose's 11-character `!{firehose:random-string}`. */
function randomString(): string {
  return randomBytes(16).toString('base64url').replace(/[-_]/g, '').slice(0, 11).padEnd(11, '0');
}

function renderParts(prefix: KeyPrefix, at: Date, errorOutputType: string): string {
  return prefix.parts
    .map((part) => {
      switch (part.kind) {
        case 'literal':
          return part.text;
        case 'timestamp':
          return part.tokens.map((token) => (token.kind === 'literal' ? token.text : formatField(at, token.letter, token.width))).join('');
        case 'random-string':
          return randomString();
        case 'error-output-type':
          return errorOutputType;
      }
    })
    .join('');
}

const defaultTimePath = (at: Date) => formatTimestamp(at, 'yyyy/MM/dd/HH/');

/** The destination prefix of an object whose oldest record arrived `at`. */
export function renderPrefix(prefix: KeyPrefix, at: Date): string {
  const rendered = renderParts(prefix, at, '');
  return hasExpressions(prefix) ? rendered : rendered + defaultTimePath(at);
}

/**
 * The error prefix of a failed batch. Error kinds never mix: without a `!{firehose:error-output-type}` expression the
 * type is appended as a folder, and without a timestamp expression the default `yyyy/MM/dd/HH/` follows.
 */
export function renderErrorPrefix(prefix: KeyPrefix, at: Date, errorOutputType: string): string {
  let rendered = renderParts(prefix, at, errorOutputType);
  if (!hasPart(prefix, 'error-output-type')) rendered += `${errorOutputType}/`;
  if (!hasPart(prefix, 'timestamp')) rendered += defaultTimePath(at);
  return rendered;
}

/** `{name}-{version}-{yyyy-MM-dd-HH-mm-ss}-{uuid}` followed by `extension` (e.g. `.gz`). */
export function objectName(deliveryStreamName: string, version: number, at: Date, extension = ''): string {
  return `${deliveryStreamName}-${version}-${formatTimestamp(at, 'yyyy-MM-dd-HH-mm-ss')}-${randomUUID()}${extension}`;
}
