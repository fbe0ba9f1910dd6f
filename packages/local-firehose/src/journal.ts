import { closeSync, existsSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { FirehoseRecord } from './delivery-stream';

/**
 * What a delivery stream has acknowledged and not yet settled, on disk: Firehose answers PutRecordBatch only once the
 * records are durable, so a crash of the local Firehose must not lose them either. Each accepted record is appended
 * (and fsynced) before the answer; a settled one (delivered, or in the error output) is marked; the file is emptied
 * whenever nothing is pending. A stream created again under the same name in the same folder takes the pending records
 * back. The Kinesis source's checkpoint (last sequence number handed over, per shard) sits beside it.
 */
export interface Journal {
  /** Records durably and gives each its id. */
  append(records: readonly Omit<FirehoseRecord, 'journalId'>[]): FirehoseRecord[];
  settle(records: readonly FirehoseRecord[]): void;
  /** Accepted before a restart and never settled, in order of acceptance. */
  readonly pending: readonly FirehoseRecord[];
  readonly checkpoints: Readonly<Record<string, string>>;
  saveCheckpoint(shardId: string, sequenceNumber: string): void;
  close(): void;
}

const fileName = (name: string) => encodeURIComponent(name);

export function openJournal(dir: string, streamName: string): Journal {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${fileName(streamName)}.journal`);
  const checkpointPath = join(dir, `${fileName(streamName)}.checkpoint.json`);
  const unsettled = new Map<number, FirehoseRecord>();
  let nextId = 1;
  if (existsSync(path)) {
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      const [kind, id, arrived, data] = line.split(' ');
      if (kind === 'A' && data !== undefined) unsettled.set(Number(id), { journalId: Number(id), arrivedAt: new Date(Number(arrived)), data: Buffer.from(data, 'base64') });
      else if (kind === 'S') for (const settled of (id ?? '').split(',')) unsettled.delete(Number(settled));
      if (kind === 'A') nextId = Math.max(nextId, Number(id) + 1);
    }
  }
  const pending = [...unsettled.values()];
  const checkpoints: Record<string, string> = existsSync(checkpointPath) ? (JSON.parse(readFileSync(checkpointPath, 'utf8')) as Record<string, string>) : {};
  const fd = openSync(path, 'a');
  const write = (text: string) => {
    writeSync(fd, text);
    fsyncSync(fd);
  };
  // Rewrite what is still pending, so the file starts from the records that matter.
  ftruncateSync(fd, 0);
  if (pending.length > 0) write(pending.map((r) => `A ${r.journalId} ${r.arrivedAt.getTime()} ${r.data.toString('base64')}\n`).join(''));

  return {
    pending,
    checkpoints,
    append(records) {
      const journaled = records.map((record) => ({ ...record, journalId: nextId++ }));
      if (journaled.length === 0) return journaled;
      write(journaled.map((r) => `A ${r.journalId} ${r.arrivedAt.getTime()} ${r.data.toString('base64')}\n`).join(''));
      for (const record of journaled) unsettled.set(record.journalId, record);
      return journaled;
    },
    settle(records) {
      const ids = records.flatMap((r) => (r.journalId === undefined ? [] : [r.journalId]));
      if (ids.length === 0) return;
      for (const id of ids) unsettled.delete(id);
      if (unsettled.size === 0) ftruncateSync(fd, 0);
      else write(`S ${ids.join(',')}\n`);
    },
    saveCheckpoint(shardId, sequenceNumber) {
      checkpoints[shardId] = sequenceNumber;
      writeFileSync(`${checkpointPath}.tmp`, JSON.stringify(checkpoints));
      renameSync(`${checkpointPath}.tmp`, checkpointPath);
    },
    close() {
      closeSync(fd);
    },
  };
}
