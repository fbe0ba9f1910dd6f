import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * Where tests live (README, Development): a unit test sits beside its module in `src/` and starts nothing; a test that
 * starts emulators, serverless-offline or a browser lives in its package's `test/` folder, and its name says what it
 * needs beyond that (`.offline`, `.integration`, `.browser`, `.property`). The emulator packages (`packages/local-*`)
 * are the exception: starting their own servers is what their unit tests test. Production code never imports a test
 * helper.
 */
const ROOT = resolve(__dirname, '..');
const tracked = execFileSync('git', ['ls-files', '*.ts'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter(Boolean);
const source = (file: string) => readFileSync(resolve(ROOT, file), 'utf8');

const isTest = (file: string) => file.endsWith('.test.ts');
const isEmulatorPackage = (file: string) => file.startsWith('packages/local-');
const TEST_HELPER_IMPORT = /from '(@invoice-pipeline\/[\w-]+\/testing|[./]+(\.\.\/)*test\/[^']*|[^']*\.test)'/;
const STARTS_SERVERS = /@invoice-pipeline\/[\w-]+\/testing'|startTest\w*\(|startLocal\w*\(|startOffline\(|createServer\(|chromium\.launch/;

describe('the test layout', () => {
  it('names every test *.test.ts with at most one known kind', () => {
    const odd = tracked.filter(isTest).filter((file) => !/(^|\/)[\w-]+(\.(property|integration|offline|browser))?\.test\.ts$/.test(file));
    expect(odd).toEqual([]);
  });

  it('keeps tests that start servers out of src/ (except in the emulator packages)', () => {
    const unitTests = tracked.filter((file) => isTest(file) && file.includes('/src/') && !isEmulatorPackage(file));
    expect(unitTests.length).toBeGreaterThan(10);
    expect(unitTests.filter((file) => STARTS_SERVERS.test(source(file)))).toEqual([]);
  });

  it('never lets production code import a test file or a testing entry point', () => {
    const production = tracked.filter((file) => /(^|\/)src\//.test(file) && !isTest(file) && !file.endsWith('/testing.ts') && !file.includes('/testing/'));
    expect(production.length).toBeGreaterThan(50);
    expect(production.filter((file) => TEST_HELPER_IMPORT.test(source(file)))).toEqual([]);
  });
});
