// The thread replayInWorker starts (./replay-in-worker.ts): one replay, and the union tally when it is asked for.
import { parentPort, workerData } from 'node:worker_threads';
import { groupInvoices, InvoiceTally, readSource, Tally, type Totals } from '@invoice-pipeline/transactions/files';
import type { WorkerReplayRequest, WorkerReplayResult } from './replay-in-worker';
import { replay } from './replay';

/** A dump's lines into the union (after the replay's: where both sent a line, the stream's counts); its own totals. */
async function addDump(union: InvoiceTally, dump: string): Promise<Totals> {
  const dumpOnly = new Tally();
  for await (const item of groupInvoices(readSource(dump))) {
    if (item.kind !== 'invoice') continue;
    union.add(item.invoice);
    dumpOnly.addInvoice(item.invoice);
  }
  return dumpOnly.totals();
}

async function run({ options, union: unionOf, progress }: WorkerReplayRequest): Promise<WorkerReplayResult> {
  // Per invoice, not per line: no set of 541,909 line keys (InvoiceTally is pinned to the keyed line tally by a test).
  const union = unionOf ? new InvoiceTally() : undefined;
  const summary = await replay({
    ...options,
    ...(union ? { onInvoice: (invoice) => union.add(invoice) } : {}),
    ...(progress ? { onProgress: (state) => parentPort?.postMessage({ progress: state }) } : {}),
  });
  if (!union || !unionOf) return { summary };
  const dumps: Totals[] = [];
  for (const dump of unionOf.dumps) dumps.push(await addDump(union, dump));
  return { summary, union: { totals: union.totals(), repeated: union.repeated, dumps } };
}

run(workerData as WorkerReplayRequest).then(
  (result) => parentPort?.postMessage({ result }),
  (error: Error) => parentPort?.postMessage({ error: { message: error.message, stack: error.stack } }),
);
