import { readFileSync } from 'node:fs';
import { DOCS } from '../src/emit-openapi';
import { invoiceJsonSchema, openApiYaml } from '../src/openapi';
import { normaliseInvoice, type Invoice } from '../src/schemas';
import { EXAMPLE_INVOICE } from '../src/files/example-invoice';
import { parseInvoicesBody } from '../src/validation';

const invoice = (overrides: Partial<Invoice> = {}): Invoice => ({
  ...EXAMPLE_INVOICE,
  lines: [
    EXAMPLE_INVOICE.lines[0]!,
    { stockCode: 'POST', description: null, quantity: 1, unitPrice: '18.0', invoiceDate: '2010-12-01T08:27:00' },
  ],
  ...overrides,
});

describe('the POST /invoices body', () => {
  it('accepts the example invoice of the API document as it stands', () => {
    expect(parseInvoicesBody(EXAMPLE_INVOICE)).toEqual({ ok: true, value: [EXAMPLE_INVOICE] });
    expect(openApiYaml()).toContain("invoiceNo: \"536365\"");
  });

  it('accepts one invoice or a batch', () => {
    expect(parseInvoicesBody(invoice())).toEqual({ ok: true, value: [invoice()] });
    const batch = parseInvoicesBody({ invoices: [invoice(), invoice({ invoiceNo: 'C536379' })] });
    expect(batch.ok && batch.value.map((i) => i.invoiceNo)).toEqual(['536365', 'C536379']);
  });

  it('lists every problem with its field path', () => {
    const body = {
      invoices: [
        invoice(),
        { ...invoice(), invoiceNo: 'X1', lines: [{ stockCode: '', description: null, quantity: 1.5, unitPrice: 2.55 }] },
      ],
    };
    const parsed = parseInvoicesBody(body);
    expect(parsed.ok).toBe(false);
    const paths = parsed.ok ? [] : parsed.problems.map((p) => p.path);
    expect(paths).toEqual(
      expect.arrayContaining(['invoices[1].invoiceNo', 'invoices[1].lines[0].stockCode', 'invoices[1].lines[0].quantity', 'invoices[1].lines[0].unitPrice']),
    );
    expect(parsed.ok ? '' : parsed.problems.find((p) => p.path.endsWith('unitPrice'))?.message).toMatch(/decimal string/);
  });

  it.each([
    ['a float price', { lines: [{ stockCode: 'A', description: null, quantity: 1, unitPrice: 0.1 }] }, 'lines[0].unitPrice'],
    ['4 decimals', { lines: [{ stockCode: 'A', description: null, quantity: 1, unitPrice: '0.1234' }] }, 'lines[0].unitPrice'],
    ['an impossible date', { invoiceDate: '2011-02-29T10:00:00' }, 'invoiceDate'],
    ['a date with an offset', { invoiceDate: '2011-02-01T10:00:00Z' }, 'invoiceDate'],
    ['no lines', { lines: [] }, 'lines'],
    ['an unknown field', { discount: '1' } as Partial<Invoice>, '(body)'],
    ['a numeric customer id', { customerId: 17850 as unknown as string }, 'customerId'],
  ])('rejects %s at its path', (_name, overrides, path) => {
    const parsed = parseInvoicesBody({ ...invoice(), ...overrides });
    expect(parsed.ok ? [] : parsed.problems.map((p) => p.path)).toContain(path);
  });

  it('reports one problem per bad date, whichever way it is wrong', () => {
    for (const invoiceDate of ['2011-02-31T10:00:00', '31/01/2011 10:00']) {
      const parsed = parseInvoicesBody({ ...invoice(), invoiceDate });
      expect(parsed.ok ? [] : parsed.problems).toEqual([{ path: 'invoiceDate', message: expect.any(String) }]);
    }
  });

  it('rejects a batch that names one invoice twice, and non-objects', () => {
    expect(parseInvoicesBody({ invoices: [invoice(), invoice()] })).toEqual({
      ok: false,
      problems: [{ path: 'invoices[1].invoiceNo', message: 'duplicates invoices[0].invoiceNo in this batch' }],
    });
    expect(parseInvoicesBody([invoice()]).ok).toBe(false);
    expect(parseInvoicesBody('x').ok).toBe(false);
    expect(parseInvoicesBody({ invoices: [] }).ok).toBe(false);
  });
});

describe('normalised lines', () => {
  it('derive lineNo, type and an exact total, keeping every sent value', () => {
    const lines = normaliseInvoice(invoice({ invoiceNo: 'C536379', customerId: null }));
    expect(lines).toEqual([
      expect.objectContaining({ invoiceNo: 'C536379', lineNo: 1, invoiceType: 'cancellation', invoiceDate: '2010-12-01T08:26:00', lineTotal: '15.3', customerId: null }),
      expect.objectContaining({ lineNo: 2, unitPrice: '18', lineTotal: '18', invoiceDate: '2010-12-01T08:27:00', description: null }),
    ]);
    expect(normaliseInvoice(invoice({ invoiceNo: 'A563186' }))[0]?.invoiceType).toBe('adjustment');
    expect(normaliseInvoice(invoice())[0]?.invoiceType).toBe('sale');
  });
});

describe('published contracts', () => {
  it('docs/openapi.yaml and the JSON Schema are what the schemas generate (run `pnpm openapi` if this fails)', () => {
    expect(readFileSync(DOCS.openApi, 'utf8')).toBe(openApiYaml());
    expect(JSON.parse(readFileSync(DOCS.jsonSchema, 'utf8'))).toEqual(invoiceJsonSchema());
  });
});
