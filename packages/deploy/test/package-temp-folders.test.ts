import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zip } from 'serverless-esbuild/dist/utils';

/**
 * serverless-esbuild zips each function group by copying its files into a temporary folder first. It removed that
 * folder without `recursive`, which fails on a folder that is not empty (silently), so every `pnpm package` and every
 * deploy left one folder per service, bundles and all, in the system's temporary folder (83 of each service's on this
 * machine). patches/serverless-esbuild@1.57.2.patch removes it recursively.
 */
describe('packaging a service', () => {
  it('zips the bundles and leaves no temporary folder behind', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'package-temp-'));
    try {
      await writeFile(join(dir, 'handler.js'), 'exports.main = async () => ({ statusCode: 200 });\n');
      const name = `package-temp-check-${process.pid}`;
      const leftovers = async () => (await readdir(tmpdir())).filter((entry) => entry.startsWith(`${name}-`));
      await zip(join(dir, `${name}.zip`), [{ rootPath: join(dir, 'handler.js'), localPath: 'src/handler.js' }], false);
      expect((await stat(join(dir, `${name}.zip`))).size).toBeGreaterThan(0);
      expect(await leftovers()).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
