import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deployedWarehouse, pbidsFor, writePbids } from './pbids';

const endpoint = 'invoice-prod.123456789012.eu-west-2.redshift-serverless.amazonaws.com';

describe('the Power BI connection file (.pbids)', () => {
  it('is one Amazon Redshift connection: server host:port, database, mode; nothing else', () => {
    expect(pbidsFor({ endpoint, database: 'analytics' })).toEqual({
      version: '0.1',
      connections: [{ details: { protocol: 'amazonredshift', address: { server: `${endpoint}:5439`, database: 'analytics' } }, options: {}, mode: 'DirectQuery' }],
    });
    expect(pbidsFor({ endpoint, database: 'analytics', port: 5440 }, 'Import').connections[0]).toMatchObject({ details: { address: { server: `${endpoint}:5440` } }, mode: 'Import' });
  });

  it('never carries a user, a password, a secret or a credential', () => {
    const text = JSON.stringify(pbidsFor({ endpoint, database: 'analytics' }));
    const keys = [...text.matchAll(/"([^"]+)":/g)].map((match) => match[1]);
    expect(keys.sort()).toEqual(['address', 'connections', 'database', 'details', 'mode', 'options', 'protocol', 'server', 'version']);
    expect(text).not.toMatch(/user|password|secret|credential|token|arn:aws/i);
  });

  it.each([
    ['a URL instead of a host', { endpoint: `jdbc:redshift://${endpoint}:5439/analytics`, database: 'analytics' }, /not a host name/],
    ['a packaging placeholder', { endpoint: 'offline-package-warehouse-Endpoint.example', database: 'analytics' }, /placeholder/],
    ['a database name with a quote', { endpoint, database: "analytics'; --" }, /not a Redshift database name/],
    ['a port out of range', { endpoint, database: 'analytics', port: 80 }, /not a Redshift port/],
  ])('refuses %s', (_case, warehouse, message) => {
    expect(() => pbidsFor(warehouse)).toThrow(message);
  });

  describe('from the outputs a deploy recorded', () => {
    let root: string;
    beforeEach(async () => {
      root = await mkdtemp(join(tmpdir(), 'pbids-'));
      await mkdir(join(root, '.serverless'));
    });
    afterEach(() => rm(root, { recursive: true, force: true }));

    it("reads the warehouse service's Endpoint and Database from .serverless/state.<stage>.json", async () => {
      expect(await deployedWarehouse('prod', root)).toBeUndefined();
      const state = { components: { warehouse: { outputs: { Endpoint: endpoint, Database: 'analytics', SecretArn: 'arn:aws:secretsmanager:eu-west-2:123456789012:secret:x' } } } };
      await writeFile(join(root, '.serverless', 'state.prod.json'), JSON.stringify(state));
      const warehouse = await deployedWarehouse('prod', root);
      expect(warehouse).toEqual({ endpoint, database: 'analytics' });
      const path = join(root, 'out', 'prod.pbids');
      await writePbids(path, pbidsFor(warehouse as { endpoint: string; database: string }));
      const written = await readFile(path, 'utf8');
      expect(JSON.parse(written)).toEqual(pbidsFor({ endpoint, database: 'analytics' }));
      expect(written).not.toContain('secret');
    });
  });
});
