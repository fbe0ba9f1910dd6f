import { replay } from '@invoice-pipeline/pos-simulator';
import { BUNDLED_DATASET } from '@invoice-pipeline/transactions/files';
import { grouped, perSecond, type Bench } from '../figure';
import { REPLAY_SETTINGS } from './stream-path';

/** Rows of the slice; one request per row takes a few ms each, so the slice stays small. */
const SLICE_ROWS = { full: 1_500, smoke: 300 };

/**
 * The same slice of the dataset posted one request per row (a one-line invoice each, as naive replay scripts do,
 * one request at a time) and by the simulator (invoices batched per store, `pnpm start`'s settings): rows/s of each.
 * The simulator's figure is this benchmark's subject; the naive script is the floor it is compared with.
 */
export const replayBatching: Bench = {
  id: 'replay-batching',
  needs: 'pipeline',
  async run({ smoke, log, pipeline }) {
    const limitRows = smoke ? SLICE_ROWS.smoke : SLICE_ROWS.full;
    const target = { url: pipeline.api.url, apiKey: pipeline.api.key, source: BUNDLED_DATASET, limitRows };
    log(`replay batching: ${grouped(limitRows)} rows one request per row, then batched`);
    // Not counted: lets serverless-offline start a worker per request in flight, as a steady replay would find them.
    await replay({ ...target, ...REPLAY_SETTINGS, limitRows: Math.min(limitRows, 500) });
    const naive = await replay({ ...target, oneByOne: true, stores: REPLAY_SETTINGS.stores, concurrency: 1 });
    const batched = await replay({ ...target, ...REPLAY_SETTINGS });
    for (const summary of [naive, batched]) {
      if (summary.accepted.lines !== limitRows) throw new Error(`replay batching: ${summary.accepted.lines} of ${limitRows} rows accepted (${summary.mode})`);
    }
    const rate = perSecond(batched.accepted.lines, batched.seconds * 1000);
    const naiveRate = perSecond(naive.accepted.lines, naive.seconds * 1000);
    return [
      {
        id: 'replay-batching.rows-per-second',
        label: 'replay, batched by the simulator',
        value: rate,
        unit: 'rows/s',
        better: 'higher',
        detail: `${grouped(limitRows)} rows in ${batched.requests} requests, ${batched.seconds.toFixed(2)} s (x${(rate / naiveRate).toFixed(0)})`,
        ceiling: { label: 'one request per row (floor)', value: naiveRate, detail: `${naive.requests} requests, ${naive.seconds.toFixed(1)} s` },
        target: { text: '>= 100x one per row', met: rate >= 100 * naiveRate },
      },
    ];
  },
};
