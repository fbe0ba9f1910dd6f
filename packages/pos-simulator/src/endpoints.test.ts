import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readApiTarget } from './endpoints';

describe('readApiTarget', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'endpoints-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('reads api.url and api.key of the local stack endpoints file', async () => {
    const file = join(dir, 'endpoints.json');
    await writeFile(file, JSON.stringify({ stage: 'local', kinesis: 'http://127.0.0.1:4567', api: { url: 'http://127.0.0.1:3000', key: 'abc' } }));
    await expect(readApiTarget(file)).resolves.toEqual({ url: 'http://127.0.0.1:3000', key: 'abc' });
  });

  it('says what to do when the file or the API is missing', async () => {
    await expect(readApiTarget(join(dir, 'missing.json'))).rejects.toThrow(/ENOENT.*pnpm start --no-replay.*--url and --api-key/);
    const file = join(dir, 'no-api.json');
    await writeFile(file, JSON.stringify({ stage: 'local' }));
    await expect(readApiTarget(file)).rejects.toThrow(/no api.url and api.key/);
  });
});
