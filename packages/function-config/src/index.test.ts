import { ConfigurationError, requiredEnv } from './index';

describe('requiredEnv', () => {
  it('returns the value of a set variable', () => {
    expect(requiredEnv({ TABLE_NAME: 'invoices-dev' }, 'processInvoices', 'TABLE_NAME')).toBe('invoices-dev');
  });

  it.each([
    ['missing', {}],
    ['empty', { TABLE_NAME: '' }],
  ])('refuses a %s variable with a ConfigurationError naming the function, the variable and where it comes from', (_, env) => {
    const read = () => requiredEnv(env, 'processInvoices', 'TABLE_NAME', 'the table, set by serverless.yml');
    expect(read).toThrow(ConfigurationError);
    expect(read).toThrow('processInvoices: environment variable TABLE_NAME is not set (the table, set by serverless.yml)');
  });
});
