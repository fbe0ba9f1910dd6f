import { recordVersion, type Invoice } from '@invoice-pipeline/transactions';
import { landInvoices, type BatchInvoice, type Outcome } from './land-batch';
import { SinkRefusedError } from './sink-refusal';
import { fakeSinks } from '../../test/fake-sinks';

const invoice = (invoiceNo: string, lines = 2, storeId = 'store-001'): Invoice => ({
  invoiceNo,
  invoiceDate: '2010-12-01T08:26:00',
  customerId: '17850',
  country: 'United Kingdom',
  storeId,
  lines: Array.from({ length: lines }, (_, i) => ({ stockCode: `S${i}`, description: 'WHITE METAL LANTERN', quantity: 6, unitPrice: '3.39' })),
});

const entry = (invoiceNo: string, lines = 2, sequence = 100, storeId?: string): BatchInvoice => ({
  id: `seq-${invoiceNo}`,
  invoice: invoice(invoiceNo, lines, storeId),
  version: recordVersion(String(sequence)),
});

const statuses = (outcomes: Map<string, Outcome>) => Object.fromEntries([...outcomes].map(([id, outcome]) => [id, outcome.status]));

describe('landing a batch with batched sink calls', () => {
  it('writes line items 25 per call across invoices and rows in one PutRecordBatch, DynamoDB before Firehose', async () => {
    const fake = fakeSinks();
    // 40 invoices of 150 lines: 40 headers, 80 line items (two per invoice), 40 packed records.
    const batch = Array.from({ length: 40 }, (_, i) => entry(String(600_000 + i), 150));
    const outcomes = await landInvoices(batch, fake.sinks);
    expect(new Set(Object.values(statuses(outcomes)))).toEqual(new Set(['landed']));
    // First deliveries: their headers in one transaction, no header put per invoice.
    expect(fake.calls.transactions).toEqual([40]);
    expect(fake.calls.header).toBe(0);
    expect(fake.calls.batchWrite).toEqual([25, 25, 25, 5]);
    expect(fake.calls.query).toBe(0); // no invoice had a stored version: nothing stale to look for
    expect(fake.calls.firehose).toEqual([40]);
    for (const { invoice: inv } of batch) {
      expect(fake.linesOf(inv.invoiceNo)).toHaveLength(150);
      expect(fake.rowsOf(inv.invoiceNo)).toEqual(Array.from({ length: 150 }, (_, i) => i + 1));
    }
  });

  it('retries UnprocessedItems with backoff, and fails exactly the invoices whose items stay unprocessed', async () => {
    // Throttled: on every attempt, invoice 700001's items and, on the first attempt only, 700002's are left unprocessed.
    const fake = fakeSinks({
      unprocessed: (request, attempt) => {
        const pk = request.PutRequest?.Item.pk ?? request.DeleteRequest?.Key.pk;
        return pk === 'INVOICE#700001' || (pk === 'INVOICE#700002' && attempt === 1);
      },
    });
    const batch = [entry('700000', 120), entry('700001', 250), entry('700002', 30), entry('700003', 5)];
    const outcomes = await landInvoices(batch, fake.sinks);
    expect(statuses(outcomes)).toEqual({ 'seq-700000': 'landed', 'seq-700001': 'failed', 'seq-700002': 'landed', 'seq-700003': 'landed' });
    expect((outcomes.get('seq-700001') as { error: Error }).error.message).toMatch(/DynamoDB t: 3 item\(s\) still not accepted after 4 attempts/);
    expect(fake.linesOf('700002')).toHaveLength(30);
    // Not whole in DynamoDB, so nothing of it was sent to the warehouse.
    expect(fake.rowsOf('700001')).toEqual([]);
    expect(fake.rowsOf('700002')).toHaveLength(30);
  });

  it('retries records Firehose did not accept (FailedPutCount), and fails exactly the invoices of records it keeps refusing', async () => {
    const fake = fakeSinks({ failRecord: (row, attempt) => row.includes('"invoice_no":"710001"') || (row.includes('"invoice_no":"710002"') && attempt < 3) });
    const outcomes = await landInvoices([entry('710000'), entry('710001'), entry('710002'), entry('710003')], fake.sinks);
    expect(statuses(outcomes)).toEqual({ 'seq-710000': 'landed', 'seq-710001': 'failed', 'seq-710002': 'landed', 'seq-710003': 'landed' });
    expect((outcomes.get('seq-710001') as { error: Error }).error.message).toMatch(/Firehose w: 1 item\(s\) still not accepted/);
    expect(fake.calls.firehose).toEqual([4, 2, 2, 1]);
    expect(fake.rowsOf('710002')).toEqual([1, 2]);
    expect(fake.rowsOf('710000')).toEqual([1, 2]);
  });

  it('isolates an item DynamoDB refuses (ValidationException): its invoice is refused and removed, its neighbours in the same call land', async () => {
    const fake = fakeSinks({ refuse: (item) => item.pk === 'INVOICE#720001' && item.sk.startsWith('LINES#') });
    const outcomes = await landInvoices([entry('720000', 3), entry('720001', 3), entry('720002', 3)], fake.sinks);
    expect(statuses(outcomes)).toEqual({ 'seq-720000': 'landed', 'seq-720001': 'refused', 'seq-720002': 'landed' });
    expect((outcomes.get('seq-720001') as { error: Error }).error).toBeInstanceOf(SinkRefusedError);
    expect((outcomes.get('seq-720001') as { error: Error }).error.message).toMatch(/refused by DynamoDB: lines: Number overflow/);
    expect(fake.header('720001')).toBeUndefined();
    expect(fake.rowsOf('720001')).toEqual([]);
    expect([fake.linesOf('720000'), fake.linesOf('720002')]).toEqual([[1, 2, 3], [1, 2, 3]]);
    expect([fake.rowsOf('720000'), fake.rowsOf('720002')]).toEqual([[1, 2, 3], [1, 2, 3]]);
  });

  it('deletes the line items a re-sent invoice with fewer lines no longer has, in the same batched calls', async () => {
    const fake = fakeSinks();
    await landInvoices([entry('730000', 350, 100), entry('730001', 2, 100)], fake.sinks);
    expect(fake.linesOf('730000')).toHaveLength(350);
    const outcomes = await landInvoices([entry('730000', 120, 200), entry('730002', 2, 200)], fake.sinks);
    expect(statuses(outcomes)).toEqual({ 'seq-730000': 'landed', 'seq-730002': 'landed' });
    expect(fake.linesOf('730000')).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
    expect([...fake.table.keys()].filter((k) => k.startsWith('INVOICE#730000|LINES#')).sort()).toEqual(['INVOICE#730000|LINES#0001', 'INVOICE#730000|LINES#0002']);
    expect(fake.header('730000')).toMatchObject({ lineCount: 120, lineItems: 2 });
    expect(fake.calls.query).toBe(1); // only the invoice that had a stored version
    // The second batch's transaction was cancelled by 730000's stored header: 730002 went in the next one, 730000
    // through the per-invoice gate.
    expect(fake.calls.transactions).toEqual([2, 2, 1]);
    expect(fake.calls.header).toBe(1);
  });

  it('puts first deliveries\' headers 100 per transaction, and sends each invoice already stored through the per-invoice gate', async () => {
    const fake = fakeSinks();
    const stored = new Set([0, 50, 110]);
    await landInvoices([...stored].map((i) => entry(String(760_000 + i), 3, 100)), fake.sinks);
    fake.calls.transactions.length = 0;
    const batch = Array.from({ length: 120 }, (_, i) => entry(String(760_000 + i), 2, 200));
    const outcomes = await landInvoices(batch, fake.sinks);
    expect(new Set(Object.values(statuses(outcomes)))).toEqual(new Set(['landed']));
    // Each call with a stored header is cancelled and goes again without it: 100 -> 98, 20 -> 19.
    expect(fake.calls.transactions).toEqual([100, 98, 20, 19]);
    expect(fake.calls.header).toBe(3);
    expect(fake.calls.query).toBe(3); // the stale lines of the three replaced versions, and only theirs
    for (const i of [0, 1, 50, 110, 119]) {
      expect(fake.linesOf(String(760_000 + i))).toEqual([1, 2]);
      expect(fake.header(String(760_000 + i))).toMatchObject({ version: recordVersion('200') });
    }
  });

  it('sends every header of a transaction cancelled for another reason (a concurrent write) through the per-invoice gate', async () => {
    const fake = fakeSinks({ conflict: () => true });
    const outcomes = await landInvoices([entry('770000'), entry('770001'), entry('770002')], fake.sinks);
    expect(statuses(outcomes)).toEqual({ 'seq-770000': 'landed', 'seq-770001': 'landed', 'seq-770002': 'landed' });
    expect(fake.calls.transactions).toEqual([3]);
    expect(fake.calls.header).toBe(3);
    expect(fake.linesOf('770001')).toEqual([1, 2]);
  });

  it('writes nothing of an older version, and refuses another store\'s invoice number', async () => {
    const fake = fakeSinks();
    await landInvoices([entry('740000', 3, 500), entry('740001', 3, 500)], fake.sinks);
    const outcomes = await landInvoices([entry('740000', 1, 400), entry('740001', 1, 600, 'another-store')], fake.sinks);
    expect(statuses(outcomes)).toEqual({ 'seq-740000': 'superseded', 'seq-740001': 'refused' });
    expect((outcomes.get('seq-740001') as { error: Error }).error.message).toMatch(/invoice 740001 belongs to store store-001; store another-store may not replace it/);
    expect([fake.linesOf('740000'), fake.linesOf('740001')]).toEqual([[1, 2, 3], [1, 2, 3]]);
    expect([fake.rowsOf('740000'), fake.rowsOf('740001')]).toEqual([[1, 2, 3], [1, 2, 3]]);
  });

  it('refuses an invoice whose row the warehouse cannot hold before writing anything, and lands its neighbours', async () => {
    const fake = fakeSinks();
    const tooPrecise: BatchInvoice = { ...entry('750001'), invoice: { ...invoice('750001'), lines: [{ stockCode: 'S', description: null, quantity: 1, unitPrice: '1'.repeat(30) }] } };
    const outcomes = await landInvoices([entry('750000'), tooPrecise, entry('750002')], fake.sinks);
    expect(statuses(outcomes)).toEqual({ 'seq-750000': 'landed', 'seq-750001': 'refused', 'seq-750002': 'landed' });
    expect(fake.header('750001')).toBeUndefined();
    expect(fake.calls.transactions).toEqual([2]);
  });
});
