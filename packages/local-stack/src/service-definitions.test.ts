import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { printCacheKey } from './service-definitions';

/** The key of a kept `sls print`: every input of the resolution changes it, and nothing else does. */
describe('printCacheKey', () => {
  let root: string;
  let service: string;
  const key = (params: Record<string, string> = { a: '1' }, stage = 'local') => printCacheKey(service, stage, params);

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'print-key-'));
    service = join(root, 'services', 'svc');
    await mkdir(join(service, 'config'), { recursive: true });
    await mkdir(join(service, 'src'), { recursive: true });
    await mkdir(join(root, 'shared'), { recursive: true });
    await writeFile(join(service, 'serverless.yml'), 'service: svc\ncustom:\n  folder: ${env:PRINT_KEY_TEST_FOLDER, "x"}\n');
    await writeFile(join(service, 'config', 'settings.js'), "const { setting } = require('../../../shared/setting');\nmodule.exports = { id: required('PRINT_KEY_TEST_ID', 'help') };\n");
    await writeFile(join(root, 'shared', 'setting.js'), 'module.exports = { setting: 1 };\n');
    await writeFile(join(service, 'src', 'handler.ts'), 'export const main = () => 1;\n');
  });
  afterEach(async () => {
    delete process.env.PRINT_KEY_TEST_FOLDER;
    delete process.env.PRINT_KEY_TEST_ID;
    await rm(root, { recursive: true, force: true });
  });

  it('changes with the configuration, the files its resolvers require, stage, params and the variables it names', async () => {
    const before = await key();
    expect(await key()).toBe(before);
    expect(await key({ a: '2' })).not.toBe(before);
    expect(await key({ a: '1' }, 'dev')).not.toBe(before);

    process.env.PRINT_KEY_TEST_FOLDER = 'elsewhere';
    const withFolder = await key();
    expect(withFolder).not.toBe(before);
    process.env.PRINT_KEY_TEST_ID = 'subnet-1';
    expect(await key()).not.toBe(withFolder);

    const named = await key();
    await writeFile(join(root, 'shared', 'setting.js'), 'module.exports = { setting: 2 };\n');
    const required = await key();
    expect(required).not.toBe(named);
    await writeFile(join(service, 'serverless.yml'), 'service: svc2\n');
    expect(await key()).not.toBe(required);
  });

  it('does not change with handler code, which `sls print` never reads', async () => {
    const before = await key();
    await writeFile(join(service, 'src', 'handler.ts'), 'export const main = () => 2;\n');
    expect(await key()).toBe(before);
  });
});
