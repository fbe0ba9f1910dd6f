import { FIREHOSE_LIMITS, normaliseInvoice, numericSql, recordVersion, TEXT_MAX_BYTES, utf8Bytes, varcharSql, WAREHOUSE_TYPES } from '@invoice-pipeline/transactions';
import { toWarehouseRow, WAREHOUSE_COLUMNS } from '../src';

/** The schema accepts only what this warehouse stores: its bounds (transactions' sink-limits) are these columns' types. */
describe('the warehouse columns and the schema bounds', () => {
  it('state the same types', () => {
    const types = Object.fromEntries(WAREHOUSE_COLUMNS.map((column) => [column.name, column.type]));
    expect(types).toMatchObject({
      invoice_no: varcharSql(WAREHOUSE_TYPES.invoiceNo.varcharBytes),
      customer_id: varcharSql(WAREHOUSE_TYPES.customerId.varcharBytes),
      store_id: varcharSql(WAREHOUSE_TYPES.storeId.varcharBytes),
      country: varcharSql(WAREHOUSE_TYPES.country.varcharBytes),
      stock_code: varcharSql(WAREHOUSE_TYPES.stockCode.varcharBytes),
      description: varcharSql(WAREHOUSE_TYPES.description.varcharBytes),
      quantity: 'INTEGER',
      unit_price: numericSql(WAREHOUSE_TYPES.unitPrice),
      line_total: numericSql(WAREHOUSE_TYPES.lineTotal),
    });
  });

  it('make the largest accepted row fit one Firehose record, even with every character escaped', () => {
    const [line] = normaliseInvoice({
      invoiceNo: 'C12345678901234567890',
      invoiceDate: '2011-12-09T12:50:00',
      customerId: 'c'.repeat(64),
      country: 'é'.repeat(TEXT_MAX_BYTES.country / 2),
      storeId: 's'.repeat(64),
      lines: [{ stockCode: 'X'.repeat(TEXT_MAX_BYTES.stockCode), description: '€'.repeat(TEXT_MAX_BYTES.description / 3), quantity: -100, unitPrice: '999999999999999.999' }],
    });
    expect(utf8Bytes(JSON.stringify(toWarehouseRow(line!, recordVersion('9'.repeat(64))))) * 6).toBeLessThan(FIREHOSE_LIMITS.recordBytes);
  });
});
