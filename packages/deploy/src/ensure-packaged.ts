import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '@invoice-pipeline/local-stack';
import { packageStage, templatesDir } from './package-stage';
import { readStageTemplates, type StageTemplates } from './templates';

/** Files a template is built from: compose, each service's serverless.yml and the files it includes. */
function sourcesOf(root: string): string[] {
  const services = join(root, 'services');
  const files = [join(root, 'serverless-compose.yml')];
  for (const service of readdirSync(services)) {
    const dir = join(services, service);
    files.push(join(dir, 'serverless.yml'));
    for (const sub of ['config', 'resources']) {
      try {
        for (const file of readdirSync(join(dir, sub))) files.push(join(dir, sub, file));
      } catch {
        // no such folder
      }
    }
  }
  return files;
}

const mtime = (path: string) => {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
};

/** The stage's packaged templates, packaging again when any source is newer than them (or they are missing). */
export async function ensurePackaged(stage: string, root = REPO_ROOT): Promise<StageTemplates> {
  const dir = templatesDir(stage, root);
  const built = Math.min(...['monitoring', 'warehouse', 'ingest', 'stream-processor', 'batch-loader'].map((s) => mtime(join(dir, `${s}.json`))));
  const newest = Math.max(...sourcesOf(root).map(mtime));
  if (built === 0 || newest > built) await packageStage({ stage, root });
  return readStageTemplates(dir);
}
