import { WAREHOUSE_MIGRATIONS, WAREHOUSE_TABLES, type LoaderSession, type StagedFile } from '@invoice-pipeline/warehouse';
import { ConfigurationError } from '@invoice-pipeline/function-config';
import type * as HandlerModule from './handler';
import { readConfig } from './config';

// The module's cold start reads this environment; the tests build their own handler with fakes.
Object.assign(process.env, {
  STAGING_BUCKET: 'staging',
  REDSHIFT_WORKGROUP: 'invoice-prod',
  REDSHIFT_DATABASE: 'analytics',
  REDSHIFT_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-2:111111111111:secret:warehouse-admin',
  REDSHIFT_COPY_ROLE_ARN: 'arn:aws:iam::111111111111:role/copy',
  AWS_REGION: 'eu-west-2',
});
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createHandler } = require('./handler') as typeof HandlerModule;

/** A warehouse that remembers applied migrations and loaded files, and can be made to fail. */
function fakeWarehouse() {
  const state = { migrations: new Set<number>(), loaded: new Set<string>(), transactions: [] as Array<{ statements: readonly string[]; copied: string[] }>, failNext: undefined as string | undefined };
  const session: LoaderSession = {
    dialect: 'redshift',
    async query<T>(sql: string): Promise<T[]> {
      if (sql.includes(WAREHOUSE_TABLES.migrations)) return [...state.migrations].map((version) => ({ version })) as T[];
      return [...state.loaded].map((file_key) => ({ file_key })) as T[];
    },
    async transaction(statements, copy = []) {
      if (state.failNext && statements.some((s) => s.includes(state.failNext!))) {
        state.failNext = undefined;
        throw new Error('ERROR: could not complete because of a conflict');
      }
      state.transactions.push({ statements, copied: copy.map((f) => f.key) });
      for (const statement of statements) {
        const version = /INSERT INTO \S+ \(version[^)]*\) VALUES \((\d+)/.exec(statement)?.[1];
        if (version) state.migrations.add(Number(version));
      }
      for (const file of copy) state.loaded.add(file.key);
    },
  };
  return { state, session };
}

const staged: StagedFile[] = [
  { key: 'warehouse/2026/12/06/10/a.gz', bytes: 100 },
  { key: 'warehouse/2026/12/06/10/b.gz', bytes: 200 },
];

function handlerWith(warehouse: ReturnType<typeof fakeWarehouse>, files: StagedFile[] = staged) {
  const moved: string[][] = [];
  const logged: Array<[string, unknown]> = [];
  const handler = createHandler({
    session: warehouse.session,
    listStaged: async () => files.filter((f) => !moved.flat().includes(f.key)),
    moveLoaded: async (loaded) => void moved.push(loaded.map((f) => f.key)),
    logger: { info: (message: string, extra?: unknown) => void logged.push([message, extra]) } as never,
  });
  return { handler, moved, logged };
}

describe('mergeWarehouse', () => {
  it('applies the pending migrations once per container, then loads the staged files and moves them to loaded/', async () => {
    const warehouse = fakeWarehouse();
    const { handler, moved } = handlerWith(warehouse);
    expect(await handler()).toEqual({ listed: 2, loaded: 2, bytes: 300, remaining: 0, moved: 2 });
    expect([...warehouse.state.migrations].sort((a, b) => a - b)).toEqual(WAREHOUSE_MIGRATIONS.map((m) => m.version));
    expect(moved).toEqual([staged.map((f) => f.key)]);
    const transactions = warehouse.state.transactions.length;

    // The same container again: no migration is looked at or applied, and nothing new is staged.
    expect(await handler()).toEqual({ listed: 0, loaded: 0, bytes: 0, remaining: 0, moved: 0 });
    expect(warehouse.state.transactions.length).toBe(transactions);
  });

  it('throws when the load fails (the alarm hears it), records and moves nothing, and the next run takes the same files', async () => {
    const warehouse = fakeWarehouse();
    const { handler, moved } = handlerWith(warehouse);
    warehouse.state.failNext = 'MERGE';
    await expect(handler()).rejects.toThrow('could not complete');
    expect(warehouse.state.loaded.size).toBe(0);
    expect(moved).toEqual([]);
    expect(await handler()).toMatchObject({ loaded: 2, moved: 2 });
  });

  it('tries the migrations again on the next run after they failed', async () => {
    const warehouse = fakeWarehouse();
    const { handler } = handlerWith(warehouse, []);
    warehouse.state.failNext = WAREHOUSE_TABLES.migrations;
    await expect(handler()).rejects.toThrow('could not complete');
    await expect(handler()).resolves.toMatchObject({ listed: 0 });
    expect(warehouse.state.migrations.size).toBe(WAREHOUSE_MIGRATIONS.length);
  });

  it('reads its configuration once and names a missing setting', () => {
    expect(readConfig(process.env)).toMatchObject({ stagingBucket: 'staging', workgroupName: 'invoice-prod', database: 'analytics' });
    expect(() => readConfig({ ...process.env, REDSHIFT_COPY_ROLE_ARN: '' })).toThrow(ConfigurationError);
    expect(() => readConfig({ ...process.env, REDSHIFT_COPY_ROLE_ARN: '' })).toThrow('mergeWarehouse: environment variable REDSHIFT_COPY_ROLE_ARN is not set');
  });
});
