/**
 * `pnpm start`: the main job. For now it reads the bundled dataset through the transactions package and prints
 * the totals every sink will be reconciled against; the offline pipeline run replaces this as it lands.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const cli = resolve(__dirname, '../packages/transactions/src/cli.ts');
const result = spawnSync(process.execPath, ['--import', 'tsx', cli, 'summary', ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(result.status ?? 1);
