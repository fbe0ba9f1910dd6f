import { readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { build } from 'esbuild';

/** What a Lambda bundle must never contain: the file and dataset tooling of the invoice contract and its CSV parser. */
export const TOOLING = [/\/node_modules\/csv-parse\//, /^packages\/transactions\/src\/files\//];

const ROOT = resolve(__dirname, '..');

/** Every function handler of every service (`services/<service>/src/functions/<function>/handler.ts`). */
export function handlerFiles(): string[] {
  return readdirSync(join(ROOT, 'services')).flatMap((service) => {
    const functions = join(ROOT, 'services', service, 'src', 'functions');
    let names: string[] = [];
    try {
      names = readdirSync(functions);
    } catch {
      return [];
    }
    return names.map((name) => relative(ROOT, join(functions, name, 'handler.ts')));
  });
}

export interface HandlerBundle {
  handler: string;
  bytes: number;
  /** Source files in the bundle, relative to the repository root. */
  inputs: string[];
}

/** Bundles a handler the way serverless-esbuild does for deployment (node20, AWS SDK left to the runtime). */
export async function bundleHandler(handler: string): Promise<HandlerBundle> {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [handler],
    bundle: true,
    platform: 'node',
    target: 'node20',
    external: ['@aws-sdk/*'],
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  return { handler, bytes: result.outputFiles[0]?.contents.length ?? 0, inputs: Object.keys(result.metafile.inputs) };
}

export const toolingIn = (bundle: HandlerBundle) => bundle.inputs.filter((input) => TOOLING.some((pattern) => pattern.test(input)));

// `pnpm bundle:sizes`: the size of every handler bundle (minify off, as deployed).
if (require.main === module) {
  void (async () => {
    for (const handler of handlerFiles()) {
      const bundle = await bundleHandler(handler);
      const tooling = toolingIn(bundle);
      console.log(`${(bundle.bytes / 1024).toFixed(1).padStart(8)} KiB  ${handler}${tooling.length ? `  (tooling: ${tooling.length} files)` : ''}`);
    }
  })();
}
