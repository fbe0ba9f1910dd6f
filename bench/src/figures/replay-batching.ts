import { replay } from '@invoice-pipeline/pos-simulator';
import { BUNDLED_DATASET } from '@invoice-pipeline/transactions/files';
import { grouped, perSecond, type Bench } from '../figure';
import { REPLAY_SETTINGS } from './stream-path';

/**
 * Rows each side posts, from the start of the dataset. One request per row costs the same per row whatever the slice
 * (one round trip each, one at a time), so its slice stays small. The simulator's slice is larger: on a few hundred rows
 * it sends one request per store (8), and the figure would measure one round trip, not a replay's rate.
 */
const SLICE_ROWS = { floor: { full: 1_500, smoke: 300 }, batched: { full: 50_000, smoke: 5_000 } };

/**
 * The dataset posted one request per row (a one-line invoice each, as naive replay scripts do, one request at a
 * time) and by the simulator (invoices batched per store, `pnpm start`'s settings): rows/s of each. The simulator's
 * figure is this benchmark's subject; the naive script is the floor it is compared with.
 */
export const replayBatching: Bench = {
  id: 'replay-batching',
  needs: 'pipeline',
  async run({ smoke, log, pipeline }) {
    const floorRows = smoke ? SLICE_ROWS.floor.smoke : SLICE_ROWS.floor.full;
    const batchedRows = smoke ? SLICE_ROWS.batched.smoke : SLICE_ROWS.batched.full;
    const target = { url: pipeline.api.url, apiKey: pipeline.api.key, source: BUNDLED_DATASET };
    log(`replay batching: ${grouped(floorRows)} rows one request per row, then ${grouped(batchedRows)} rows batched`);
    // Not counted: lets serverless-offline start a worker per request in flight, as a steady replay would find them.
    await replay({ ...target, ...REPLAY_SETTINGS, limitRows: 500 });
    const naive = await replay({ ...target, limitRows: floorRows, oneByOne: true, stores: REPLAY_SETTINGS.stores, concurrency: 1 });
    const batched = await replay({ ...target, ...REPLAY_SETTINGS, limitRows: batchedRows });
    for (const [summary, rows] of [[naive, floorRows], [batched, batchedRows]] as const) {
      if (summary.accepted.lines !== rows) throw new Error(`replay batching: ${summary.accepted.lines} of ${rows} rows accepted (${summary.mode})`);
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
        detail: `${grouped(batchedRows)} rows in ${batched.requests} requests, ${batched.seconds.toFixed(2)} s (x${(rate / naiveRate).toFixed(0)})`,
        ceiling: { label: 'one request per row (floor)', value: naiveRate, detail: `the first ${grouped(floorRows)} rows: ${naive.requests} requests, ${naive.seconds.toFixed(1)} s` },
        target: { text: '>= 100x one per row', met: rate >= 100 * naiveRate },
      },
    ];
  },
};
