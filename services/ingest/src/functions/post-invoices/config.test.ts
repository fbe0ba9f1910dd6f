import { DEFAULT_RETRY, readConfig } from './config';

const BINDINGS = { 'id:abc123': { role: 'store', stores: ['store-001'] } };
const valid = { STREAM_NAME: 'invoice-ingest-dev-invoices', AWS_REGION: 'eu-west-2', STORE_API_KEYS: JSON.stringify(BINDINGS) };

describe('readConfig', () => {
  it('reads the stream name and keeps the default retry policy', () => {
    expect(readConfig(valid)).toEqual({ streamName: 'invoice-ingest-dev-invoices', retry: DEFAULT_RETRY, retryAfterSeconds: 2, keyBindings: BINDINGS });
  });

  it.each([
    [{ ...valid, STREAM_NAME: undefined }, /STREAM_NAME is not set/],
    [{ ...valid, STREAM_NAME: '' }, /STREAM_NAME is not set/],
    [{ ...valid, STREAM_NAME: '[object Object]' }, /STREAM_NAME is not a Kinesis stream name/],
    [{ ...valid, AWS_REGION: undefined }, /AWS_REGION is not set/],
    [{ ...valid, AWS_ENDPOINT_URL_KINESIS: '127.0.0.1:4567' }, /AWS_ENDPOINT_URL_KINESIS is not a URL/],
    [{ ...valid, STORE_API_KEYS: undefined }, /STORE_API_KEYS is not set/],
    [{ ...valid, STORE_API_KEYS: '[object Object]' }, /STORE_API_KEYS is not JSON/],
    [{ ...valid, STORE_API_KEYS: '{"id:k":{"role":"store","stores":[]}}' }, /STORE_API_KEYS is not a map/],
  ])('refuses %o', (env, message) => {
    expect(() => readConfig(env)).toThrow(message);
  });

  it('accepts a local Kinesis endpoint for the SDK', () => {
    expect(() => readConfig({ ...valid, AWS_ENDPOINT_URL_KINESIS: 'http://127.0.0.1:4567' })).not.toThrow();
  });
});
