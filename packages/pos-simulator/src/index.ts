export { replay, isComplete, type ReplayOptions, type ReplaySummary, type ReplayProgress, type Reason, type Count } from './replay';
export { postInvoices, DEFAULT_RETRY, type PostResult, type RetryPolicy } from './api-client';
export { readApiTarget, DEFAULT_ENDPOINTS_FILE, type ApiTarget } from './endpoints';
export { storeIdFor } from './stores';
export { oneByOneInvoiceNo, parseOneByOneInvoiceNo } from './one-by-one';
export { formatSummary } from './format';
export { replayInWorker, type WorkerReplayOptions, type WorkerReplayResult, type UnionTotals } from './replay-in-worker';
