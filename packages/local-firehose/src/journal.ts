import { close, existsSync, fdatasync, fsyncSync, ftruncate, ftruncateSync, mkdirSync, openSync, readFileSync, renameSync, write, writeFileSync, writeSync } from 'node:fs';
import { promisify } from 'node:util';
import { join } from 'node:path';
import type { FirehoseRecord } from './delivery-stream';

/**
 * What a delivery stream has acknowledged and not yet settled, on disk: Firehose answers PutRecordBatch only once the
 * records are durable, so a crash of the local Firehose must not lose them either. Each accepted record is appended
 * (and fdatasynced) before the answer; a settled one (delivered, or in the error output) is marked; the file is emptied
 * whenever nothing is pending. A stream created again under the same name in the same folder takes the pending records
 * back. The Kinesis source's checkpoint (last sequence number handed over, per shard) sits beside it.
 *
 * Writes go through one queue, in call order, off the event loop: whatever was asked for while a write was on its way
 * goes in the next write with one fdatasync for all of it (group commit). The Firehose shares its process with the
 * replay and the warehouse, which a synchronous write and fsync per call stalled for ~10 s of a whole-dataset replay.
 */
export interface Journal {
  /** Gives each record its id; resolves once they are on disk. */
  append(records: readonly Omit<FirehoseRecord, 'journalId'>[]): Promise<FirehoseRecord[]>;
  /** Marks records settled (written after everything asked for before). */
  settle(records: readonly FirehoseRecord[]): void;
  /** Accepted before a restart and never settled, in order of acceptance. */
  readonly pending: readonly FirehoseRecord[];
  readonly checkpoints: Readonly<Record<string, string>>;
  saveCheckpoint(shardId: string, sequenceNumber: string): void;
  /** Finishes the writes asked for, then closes the file. */
  close(): Promise<void>;
}

const writeAsync = promisify(write);
const datasyncAsync = promisify(fdatasync);
const truncateAsync = promisify(ftruncate);
const closeAsync = promisify(close);

/** An ordered queue of appends and truncations of one file, each batch of them made durable by one fdatasync. */
function groupCommitter(fd: number) {
  type Step = { text: string } | { truncate: true };
  let queued: Array<{ step: Step; done: () => void; failed: (error: Error) => void }> = [];
  let running: Promise<void> | undefined;
  let closed = false;

  async function drain(): Promise<void> {
    while (queued.length > 0) {
      const batch = queued;
      queued = [];
      try {
        let text = '';
        for (const { step } of batch) {
          if ('text' in step) text += step.text;
          else {
            if (text) await writeAsync(fd, text);
            text = '';
            await truncateAsync(fd, 0);
          }
        }
        if (text) await writeAsync(fd, text);
        await datasyncAsync(fd);
        for (const { done } of batch) done();
      } catch (error) {
        for (const { failed } of batch) failed(error as Error);
      }
    }
    running = undefined;
  }

  return {
    enqueue(step: Step): Promise<void> {
      // A closed descriptor's number may already belong to another file.
      if (closed) return Promise.reject(new Error('the journal is closed'));
      const written = new Promise<void>((done, failed) => queued.push({ step, done, failed }));
      running ??= drain();
      return written;
    },
    async close() {
      closed = true;
      while (running) await running;
      await closeAsync(fd);
    },
  };
}

const fileName = (name: string) => encodeURIComponent(name);
const entryLine = (r: FirehoseRecord) => `A ${r.journalId} ${r.arrivedAt.getTime()} ${r.data.toString('base64')}\n`;

export function openJournal(dir: string, streamName: string, onError: (message: string) => void = () => undefined): Journal {
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
  // Rewrite what is still pending, so the file starts from the records that matter.
  ftruncateSync(fd, 0);
  if (pending.length > 0) {
    writeSync(fd, pending.map(entryLine).join(''));
    fsyncSync(fd);
  }
  const file = groupCommitter(fd);

  return {
    pending,
    checkpoints,
    async append(records) {
      const journaled = records.map((record) => ({ ...record, journalId: nextId++ }));
      if (journaled.length === 0) return journaled;
      // Unsettled from now on, so a settle meanwhile does not empty the file under them.
      for (const record of journaled) unsettled.set(record.journalId, record);
      try {
        await file.enqueue({ text: journaled.map(entryLine).join('') });
      } catch (error) {
        // Not acknowledged: the caller answers with an error and the records are not the journal's to keep.
        for (const record of journaled) unsettled.delete(record.journalId);
        throw error;
      }
      return journaled;
    },
    settle(records) {
      const ids = records.flatMap((r) => (r.journalId === undefined ? [] : [r.journalId]));
      if (ids.length === 0) return;
      for (const id of ids) unsettled.delete(id);
      // Nobody waits for a settle mark: losing one in a crash only delivers its records again, as Firehose may.
      const marked = unsettled.size === 0 ? file.enqueue({ truncate: true }) : file.enqueue({ text: `S ${ids.join(',')}\n` });
      marked.catch((error: Error) => onError(`journal of ${streamName}: marking ${ids.length} record(s) settled failed (they will be delivered again after a restart): ${error.message}`));
    },
    saveCheckpoint(shardId, sequenceNumber) {
      checkpoints[shardId] = sequenceNumber;
      writeFileSync(`${checkpointPath}.tmp`, JSON.stringify(checkpoints));
      renameSync(`${checkpointPath}.tmp`, checkpointPath);
    },
    close: () => file.close(),
  };
}
