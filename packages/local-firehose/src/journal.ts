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
 *
 * The file, one entry after another:
 *   B <id> <arrivedAt ms> <n>\n<n bytes of the record>\n    an accepted record, its bytes as they are
 *   S <id>,<id>,...\n                                     those records settled
 * A record's bytes are written as they are: the whole dataset's records are ~300 MB, which as base64 text cost ~1.5 s
 * of the process's one thread to encode and join, and a third more to write. An entry cut short by a crash (fewer
 * bytes than it declares) was never acknowledged, and is dropped. `A <id> <ms> <base64>` lines of journals written by
 * earlier versions are still read.
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

/** Writes every byte of the buffers, in order, at the end of the file (a write may take fewer bytes than it is given). */
async function writeAll(fd: number, buffers: Buffer[]): Promise<void> {
  if (buffers.length === 0) return;
  const all = Buffer.concat(buffers);
  for (let at = 0; at < all.length; ) at += (await writeAsync(fd, all, at, all.length - at)).bytesWritten;
}

/** An ordered queue of appends and truncations of one file, each batch of them made durable by one fdatasync. */
function groupCommitter(fd: number) {
  type Step = { bytes: Buffer[] } | { truncate: true };
  let queued: Array<{ step: Step; done: () => void; failed: (error: Error) => void }> = [];
  let running: Promise<void> | undefined;
  let closed = false;

  async function drain(): Promise<void> {
    while (queued.length > 0) {
      const batch = queued;
      queued = [];
      try {
        let bytes: Buffer[] = [];
        for (const { step } of batch) {
          if ('bytes' in step) bytes.push(...step.bytes);
          else {
            await writeAll(fd, bytes);
            bytes = [];
            await truncateAsync(fd, 0);
          }
        }
        await writeAll(fd, bytes);
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
const NEWLINE = Buffer.from('\n');
const entryBytes = (r: FirehoseRecord): Buffer[] => [Buffer.from(`B ${r.journalId} ${r.arrivedAt.getTime()} ${r.data.length}\n`), r.data, NEWLINE];

/** The entries of a journal file, in order; stops at an entry cut short. */
function* readEntries(file: Buffer): Generator<{ kind: 'append'; record: FirehoseRecord } | { kind: 'settle'; ids: number[] }> {
  for (let at = 0; at < file.length; ) {
    const end = file.indexOf(0x0a, at);
    if (end < 0) return;
    const [kind, id, arrived, data] = file.toString('latin1', at, end).split(' ');
    at = end + 1;
    if (kind === 'B') {
      const length = Number(data);
      if (!Number.isSafeInteger(length) || at + length >= file.length || file[at + length] !== 0x0a) return;
      yield { kind: 'append', record: { journalId: Number(id), arrivedAt: new Date(Number(arrived)), data: Buffer.from(file.subarray(at, at + length)) } };
      at += length + 1;
    } else if (kind === 'A' && data !== undefined) {
      yield { kind: 'append', record: { journalId: Number(id), arrivedAt: new Date(Number(arrived)), data: Buffer.from(data, 'base64') } };
    } else if (kind === 'S') {
      yield { kind: 'settle', ids: (id ?? '').split(',').map(Number) };
    }
  }
}

export function openJournal(dir: string, streamName: string, onError: (message: string) => void = () => undefined): Journal {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${fileName(streamName)}.journal`);
  const checkpointPath = join(dir, `${fileName(streamName)}.checkpoint.json`);
  const unsettled = new Map<number, FirehoseRecord>();
  let nextId = 1;
  if (existsSync(path)) {
    for (const entry of readEntries(readFileSync(path))) {
      if (entry.kind === 'settle') for (const settled of entry.ids) unsettled.delete(settled);
      else {
        const id = entry.record.journalId ?? 0;
        unsettled.set(id, entry.record);
        nextId = Math.max(nextId, id + 1);
      }
    }
  }
  const pending = [...unsettled.values()];
  const checkpoints: Record<string, string> = existsSync(checkpointPath) ? (JSON.parse(readFileSync(checkpointPath, 'utf8')) as Record<string, string>) : {};
  const fd = openSync(path, 'a');
  // Rewrite what is still pending, so the file starts from the records that matter.
  ftruncateSync(fd, 0);
  if (pending.length > 0) {
    writeSync(fd, Buffer.concat(pending.flatMap(entryBytes)));
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
        await file.enqueue({ bytes: journaled.flatMap(entryBytes) });
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
      const marked = unsettled.size === 0 ? file.enqueue({ truncate: true }) : file.enqueue({ bytes: [Buffer.from(`S ${ids.join(',')}\n`)] });
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
