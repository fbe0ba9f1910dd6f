import { readFileSync } from 'node:fs';
import { GLUE_WAREHOUSE_SQL_PATH, glueWarehouseSqlText } from '../src/glue-artefacts';

describe('glue/warehouse_sql.json', () => {
  it('is generated from the one home of the warehouse SQL (run `pnpm --filter @invoice-pipeline/local-glue emit`)', () => {
    expect(readFileSync(GLUE_WAREHOUSE_SQL_PATH, 'utf8')).toBe(glueWarehouseSqlText());
  });

  it('merges with the stream path\'s MERGE and leaves only the file and counts to fill in', () => {
    const sql = JSON.parse(glueWarehouseSqlText()) as { postactions: string[] };
    expect(sql.postactions.some((s) => s.startsWith('MERGE INTO invoice_lines'))).toBe(true);
    expect(sql.postactions.join('\n').match(/\{\w+\}/g)?.sort()).toEqual(expect.arrayContaining(['{lines}', '{rejected}', '{source_file}']));
  });
});
