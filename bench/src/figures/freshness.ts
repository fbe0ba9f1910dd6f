import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { postInvoices, DEFAULT_RETRY } from '@invoice-pipeline/pos-simulator';
import { stageOutputs } from '@invoice-pipeline/local-stack';
import { invoiceKey, linesSk, type Invoice } from '@invoice-pipeline/transactions';
import { WAREHOUSE_TABLES } from '@invoice-pipeline/warehouse';
import { percentile, type Bench, type Figure } from '../figure';

const INVOICES = { full: 60, smoke: 10 };
/** One invoice every this many ms: a steady trickle, as a shop's tills send them. */
const SPACING_MS = 250;
const POLL_MS = { dynamodb: 20, warehouse: 50 };
const GIVE_UP_MS = 60_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A three-line invoice under a number the dataset never uses (10 digits, unique to this run). */
function invoice(index: number): Invoice {
  const invoiceNo = `${String(Date.now()).slice(-7)}${String(index).padStart(3, '0')}`;
  const line = (stockCode: string, quantity: number, unitPrice: string) => ({ stockCode, description: `BENCH ${stockCode}`, quantity, unitPrice });
  return {
    invoiceNo,
    invoiceDate: '2011-12-09T12:50:00',
    customerId: '12680',
    country: 'France',
    storeId: 'store-001',
    lines: [line('22138', 3, '4.95'), line('22629', 12, '1.95'), line('POST', 1, '18')],
  };
}

async function until(visible: () => Promise<boolean>, pollMs: number, since: number): Promise<number> {
  while (performance.now() - since < GIVE_UP_MS) {
    if (await visible()) return performance.now() - since;
    await sleep(pollMs);
  }
  return Number.POSITIVE_INFINITY;
}

/**
 * POST to visible: invoices posted one by one, a quarter of a second apart, each watched until its last line can be
 * read in DynamoDB (GetItem of its last lines item) and in the warehouse's invoice_lines (after the MERGE), at the
 * local default settings: batch size 100 and 1 s batching window of the event source as declared in serverless.yml
 * (locally a batch is whatever one GetRecords returns), local Firehose buffer 1 s, warehouse merge every 2 s.
 */
export const freshness: Bench = {
  id: 'freshness',
  needs: 'pipeline',
  async run({ smoke, log, pipeline }) {
    const { tableName } = stageOutputs(pipeline.stack.endpoints);
    const count = smoke ? INVOICES.smoke : INVOICES.full;
    const toDynamoDb: number[] = [];
    const toWarehouse: number[] = [];
    const watching: Promise<void>[] = [];
    log(`freshness: ${count} invoices, one every ${SPACING_MS} ms`);
    for (let index = 0; index < count; index += 1) {
      const sent = invoice(index);
      const since = performance.now();
      const posted = await postInvoices(JSON.stringify(sent), { url: pipeline.api.url, apiKey: pipeline.api.key, retry: DEFAULT_RETRY, timeoutMs: 10_000 });
      if (posted.kind !== 'accepted') throw new Error(`freshness: invoice ${sent.invoiceNo} not accepted: ${JSON.stringify(posted)}`);
      const key = { pk: { S: invoiceKey(sent.invoiceNo) }, sk: { S: linesSk(1) } };
      watching.push(
        until(async () => Boolean((await pipeline.stack.clients.dynamodb.send(new GetItemCommand({ TableName: tableName, Key: key }))).Item), POLL_MS.dynamodb, since).then((ms) => {
          toDynamoDb.push(ms);
        }),
        until(async () => {
          const [row] = await pipeline.stack.warehouse.query<{ lines: number }>(`SELECT count(*)::int AS lines FROM ${WAREHOUSE_TABLES.lines} WHERE invoice_no = $1`, [sent.invoiceNo]);
          return Number(row?.lines) === sent.lines.length;
        }, POLL_MS.warehouse, since).then((ms) => {
          toWarehouse.push(ms);
        }),
      );
      await sleep(SPACING_MS);
    }
    await Promise.all(watching);

    const figures: Figure[] = [];
    for (const [sink, samples, targetMs] of [
      ['DynamoDB', toDynamoDb, 2_000],
      ['warehouse', toWarehouse, 5_000],
    ] as const) {
      const lost = samples.filter((ms) => !Number.isFinite(ms)).length;
      for (const p of [50, 95, 99]) {
        const value = percentile(samples, p) / 1000;
        figures.push({
          id: `freshness.${sink.toLowerCase()}.p${p}`,
          label: `freshness POST to ${sink}, p${p}`,
          value,
          unit: 's',
          better: 'lower',
          detail: `${samples.length} invoices${lost ? `, ${lost} never visible within ${GIVE_UP_MS / 1000} s` : ''}`,
          target: p === 95 ? { text: `< ${targetMs / 1000} s`, met: value * 1000 < targetMs } : undefined,
        });
      }
    }
    return figures;
  },
};
