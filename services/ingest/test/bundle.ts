import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';

/**
 * Bundles a handler module the way serverless-esbuild does for Lambda (CommonJS, node20), into a temporary folder.
 * Tests load the bundle because middy 6 is ESM-only, which Jest's CommonJS runtime cannot require on Node 20;
 * testing the bundle also tests what ships.
 */
export async function bundleModule(entry: string): Promise<{ file: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'ingest-bundle-'));
  const file = join(dir, 'handler.js');
  await build({ entryPoints: [entry], outfile: file, bundle: true, platform: 'node', target: 'node20', format: 'cjs', sourcemap: 'inline', logLevel: 'error' });
  return { file, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Requires a bundle with the given environment in place while its module scope (cold start) runs. */
export function loadWithEnv<T>(file: string, env: Record<string, string | undefined>): T {
  const saved = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
  const apply = (values: Record<string, string | undefined>) => {
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  apply(env);
  try {
    let loaded: T | undefined;
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      loaded = require(file) as T;
    });
    return loaded as T;
  } finally {
    apply(saved);
  }
}
