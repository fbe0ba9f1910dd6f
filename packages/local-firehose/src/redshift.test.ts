import { PutRecordBatchCommand, type FirehoseClient } from '@aws-sdk/client-firehose';
import { startLocalFirehose, type LocalFirehose, type LocalFirehoseOptions, type RedshiftDestinationProperties } from '.';
import { WAREHOUSE_COLUMNS, WAREHOUSE_TABLES } from '@invoice-pipeline/warehouse';
import { expectAccounted, firehoseClientFor, startTestS3, startTestWarehouse, waitFor, type TestS3, type TestWarehouse } from './testing';

const bucket = 'warehouse-staging';
const table = WAREHOUSE_TABLES.staging;
const columns = WAREHOUSE_COLUMNS.map((column) => column.name).join(',');

let s3: TestS3;
let warehouse: TestWarehouse;
const running: Array<{ firehose: LocalFirehose; client: FirehoseClient }> = [];

beforeAll(async () => {
  [s3, warehouse] = await Promise.all([
    startTestS3([bucket]),
    startTestWarehouse(`
      CREATE TABLE ${table} (
        invoice_no text NOT NULL, line_no integer NOT NULL, invoice_type text NOT NULL, invoice_date timestamp NOT NULL,
        customer_id text, country text, store_id text, stock_code text, description text,
        quantity integer NOT NULL, unit_price numeric(12,3) NOT NULL, line_total numeric(14,3) NOT NULL,
        record_version text NOT NULL
      )`),
  ]);
}, 60_000); // PGlite compiles its WASM at start: slow on a loaded machine
beforeEach(async () => {
  warehouse.down = false;
  warehouse.loadAttempts = 0;
  await warehouse.db.exec(`TRUNCATE ${table}`);
});
afterEach(async () => {
  for (const { firehose, client } of running.splice(0)) {
    client.destroy();
    await firehose.stop();
  }
});
afterAll(async () => {
  await Promise.all([s3.stop(), warehouse.stop()]);
});

/** The warehouse delivery stream of services/stream-processor/serverless.yml, staging under `prefix`. */
function warehouseDestination(prefix: string, retrySeconds = 3600): RedshiftDestinationProperties {
  return {
    ClusterJDBCURL: 'jdbc:redshift://example.eu-west-2.redshift.amazonaws.com:5439/analytics',
    RoleARN: 'arn:aws:iam::000000000000:role/firehose',
    SecretsManagerConfiguration: { Enabled: true, SecretARN: 'arn:aws:secretsmanager:eu-west-2:000000000000:secret:redshift' },
    CopyCommand: { DataTableName: table, DataTableColumns: columns, CopyOptions: "FORMAT AS JSON 'auto' GZIP TIMEFORMAT 'auto'" },
    RetryOptions: { DurationInSeconds: retrySeconds },
    S3Configuration: {
      BucketARN: `arn:aws:s3:::${bucket}`,
      RoleARN: 'arn:aws:iam::000000000000:role/firehose',
      Prefix: `${prefix}/`,
      ErrorOutputPrefix: `firehose-errors/${prefix}/`,
      CompressionFormat: 'GZIP',
      BufferingHints: { IntervalInSeconds: 60, SizeInMBs: 5 },
    },
  };
}

async function warehouseStream(name: string, destination: RedshiftDestinationProperties, options: Partial<LocalFirehoseOptions> = {}) {
  const firehose = await startLocalFirehose({ s3: s3.client, warehouse: warehouse.loader, retry: { baseDelayMs: 10, maxDelayMs: 40 }, ...options });
  const client = firehoseClientFor(firehose.endpoint);
  running.push({ firehose, client });
  await firehose.createDeliveryStream(name, {
    DeliveryStreamName: name,
    DeliveryStreamType: 'DirectPut',
    DeliveryStreamEncryptionConfigurationInput: { KeyType: 'AWS_OWNED_CMK' },
    RedshiftDestinationConfiguration: destination,
  });
  const put = async (records: readonly string[]) => {
    const reply = await client.send(new PutRecordBatchCommand({ DeliveryStreamName: name, Records: records.map((data) => ({ Data: Buffer.from(data) })) }));
    expect(reply.FailedPutCount).toBe(0);
  };
  return { firehose, put };
}

/** A normalised invoice line as the stream processor sends it: one JSON object per line. */
function line(invoiceNo: string, lineNo: number, extra: Record<string, unknown> = {}): string {
  return (
    JSON.stringify({
      invoice_no: invoiceNo,
      line_no: lineNo,
      invoice_type: 'sale',
      invoice_date: '2010-12-01T08:26:00',
      customer_id: '17850',
      country: 'United Kingdom',
      store_id: 'store-001',
      stock_code: '85123A',
      description: 'WHITE HANGING HEART T-LIGHT HOLDER',
      quantity: 6,
      unit_price: '2.55',
      line_total: '15.30',
      record_version: '1'.padStart(64, '0'),
      ...extra,
    }) + '\n'
  );
}

const rowCount = async () => (await warehouse.db.query<{ count: number }>(`SELECT count(*)::int AS count FROM ${table}`)).rows[0]?.count;

describe('a Redshift destination', () => {
  it('stages the batch in S3, then COPYs it into the warehouse with values intact', async () => {
    const { firehose, put } = await warehouseStream('warehouse', warehouseDestination('loads'));
    const lines = Array.from({ length: 40 }, (_, n) => line('536365', n + 1));
    lines.push(line('C536379', 1, { invoice_type: 'cancellation', quantity: -1, unit_price: 27.5, line_total: '-27.50', stock_code: 'D', description: 'Discount' }));
    lines.push(line('536366', 1, { customer_id: null, description: '  "BOX" of 3, £5 ', unit_price: 0.001, line_total: 0.006 }));
    // Concatenated without newlines loads too, as with Redshift's JSON 'auto'.
    lines.push(line('536367', 1).trimEnd(), line('536367', 2).trimEnd());
    await put(lines);
    await firehose.flush('warehouse');

    const [stagingKey, ...others] = await s3.keys(bucket, 'loads/');
    expect(others).toEqual([]);
    expect(stagingKey).toMatch(/^loads\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/warehouse-1-.*\.gz$/);
    expect((await s3.read(bucket, stagingKey as string)).toString()).toBe(lines.join(''));

    expect(await rowCount()).toBe(44);
    const { rows } = await warehouse.db.query<Record<string, string | null>>(
      `SELECT invoice_no, line_no::text, description, customer_id, unit_price::text, line_total::text, quantity::text FROM ${table} WHERE invoice_no IN ('C536379', '536366') ORDER BY invoice_no`,
    );
    expect(rows).toEqual([
      { invoice_no: '536366', line_no: '1', description: '  "BOX" of 3, £5 ', customer_id: null, unit_price: '0.001', line_total: '0.006', quantity: '6' },
      { invoice_no: 'C536379', line_no: '1', description: 'Discount', customer_id: '17850', unit_price: '27.500', line_total: '-27.500', quantity: '-1' },
    ]);
    expect(firehose.stats('warehouse')).toMatchObject({ recordsIn: 44, deliveredToS3: 44, loadedToWarehouse: 44, rowsLoadedToWarehouse: 44, delivered: 44, failed: 0 });
    expectAccounted(firehose.stats('warehouse'));
  });

  it('retries while the warehouse is down and loads exactly once when it is back', async () => {
    const { firehose, put } = await warehouseStream('warehouse', warehouseDestination('outage'), { retry: { baseDelayMs: 10, maxDelayMs: 40, redshiftDurationInSeconds: 30 } });
    warehouse.down = true;
    await put([line('536370', 1), line('536370', 2), line('536370', 3)]);
    const flushed = firehose.flush('warehouse');
    await waitFor(() => warehouse.loadAttempts >= 3, 'failed loads');
    expect(firehose.stats('warehouse')).toMatchObject({
      deliveredToS3: 3,
      loadingToWarehouse: 3,
      delivered: 0,
      lastError: expect.stringMatching(/ECONNREFUSED/),
    });
    expectAccounted(firehose.stats('warehouse'), false);

    warehouse.down = false;
    await flushed;
    expect(await rowCount()).toBe(3);
    const stats = firehose.stats('warehouse');
    expect(stats).toMatchObject({ loadedToWarehouse: 3, delivered: 3, failed: 0 });
    expect(stats.retries).toBeGreaterThanOrEqual(2);
    expectAccounted(stats);
  });

  it('past RetryOptions.DurationInSeconds writes a manifest of the skipped object to the error prefix', async () => {
    const { firehose, put } = await warehouseStream('warehouse', warehouseDestination('expired'), { retry: { baseDelayMs: 10, maxDelayMs: 40, redshiftDurationInSeconds: 0.2 } });
    warehouse.down = true;
    await put([line('536371', 1), line('536371', 2)]);
    await firehose.flush('warehouse');

    expect(await rowCount()).toBe(0);
    const [stagingKey] = await s3.keys(bucket, 'expired/');
    const manifestKeys = await s3.keys(bucket, 'firehose-errors/expired/');
    expect(manifestKeys).toHaveLength(1);
    expect(manifestKeys[0]).toMatch(/^firehose-errors\/expired\/redshift-failed\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/warehouse-1-.*\.manifest$/);
    const manifest = JSON.parse((await s3.read(bucket, manifestKeys[0] as string)).toString()) as unknown;
    expect(manifest).toEqual({ entries: [{ url: `s3://${bucket}/${stagingKey}`, mandatory: true, meta: { content_length: expect.any(Number) } }] });
    expect(firehose.stats('warehouse')).toMatchObject({ deliveredToS3: 2, loadedToWarehouse: 0, delivered: 0, failed: 2 });
    expect(warehouse.loadAttempts).toBeGreaterThan(1);
    expectAccounted(firehose.stats('warehouse'));
  });

  it('does not drop a batch the warehouse rejects: with no retry window it goes straight to a manifest', async () => {
    const { firehose, put } = await warehouseStream('warehouse', warehouseDestination('rejected', 0));
    await put([line('536372', 1), 'not json\n']);
    await firehose.flush('warehouse');
    expect(await rowCount()).toBe(0);
    expect(await s3.keys(bucket, 'firehose-errors/rejected/redshift-failed/')).toHaveLength(1);
    expect(firehose.stats('warehouse')).toMatchObject({ failed: 2, retries: 0, lastError: expect.stringMatching(/Expected a JSON object/) });
    expectAccounted(firehose.stats('warehouse'));
  });
});
