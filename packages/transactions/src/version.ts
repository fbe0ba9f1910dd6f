/**
 * The version of a delivery, which orders the versions of one invoice: its Kinesis sequence number. Sequence numbers
 * of one partition key (one invoice) grow with time, also across resharding, but are decimal strings of up to 128
 * digits, too long for a DynamoDB number (38 digits) or a Redshift NUMERIC (38). Zero-padded to a fixed width, they
 * compare as text exactly as they compare as integers, in every sink.
 */
export const RECORD_VERSION_DIGITS = 64;

export function recordVersion(sequenceNumber: string): string {
  if (!/^\d+$/.test(sequenceNumber) || sequenceNumber.replace(/^0+/, '').length > RECORD_VERSION_DIGITS) {
    throw new RangeError(`not a Kinesis sequence number of at most ${RECORD_VERSION_DIGITS} digits: ${sequenceNumber.slice(0, 80)}`);
  }
  return sequenceNumber.replace(/^0+/, '').padStart(RECORD_VERSION_DIGITS, '0');
}

/** True when version `a` is newer than `b` (both from recordVersion). */
export const isNewerVersion = (a: string, b: string): boolean => a > b;
