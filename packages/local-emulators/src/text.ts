import { isAscii } from 'node:buffer';

/**
 * The text of UTF-8 bytes. Most bodies the local AWS reads (SDK requests of base64 records, staged JSON of ASCII rows)
 * are plain ASCII, whose bytes Latin-1 decodes to the same text about ten times faster than the UTF-8 decoder (a 4 MB
 * PutRecordBatch body: ~1 ms instead of ~13 ms); the check itself is a SIMD scan (~0.06 ms). Anything else is decoded
 * as UTF-8, as before.
 */
export const utf8Text = (bytes: Buffer): string => (isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8'));
