import type { Bench } from '../figure';
import { batchPath } from './batch-path';
import { csvReader } from './csv-reader';
import { freshness } from './freshness';
import { ingestLoad } from './ingest-load';
import { readLoad } from './read-load';
import { replayBatching } from './replay-batching';
import { streamPath } from './stream-path';

/**
 * Every benchmark, in the order they run. To add a figure: a module in this folder exporting a Bench, and one line
 * here. Pipeline benchmarks share one offline pipeline started empty; the stream path must stay first among them.
 */
export const BENCHES: readonly Bench[] = [csvReader, batchPath, streamPath, freshness, replayBatching, ingestLoad, readLoad];
