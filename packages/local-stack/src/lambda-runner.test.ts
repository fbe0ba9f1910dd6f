import { environmentConflicts, lambdaRunner } from './lambda-runner';

describe('lambdaRunner', () => {
  it('runs handlers in-process unless the option or LOCAL_LAMBDA_RUNNER says otherwise', () => {
    expect(lambdaRunner(undefined, {})).toBe('in-process');
    expect(lambdaRunner(undefined, { LOCAL_LAMBDA_RUNNER: 'worker-threads' })).toBe('worker-threads');
    expect(lambdaRunner('in-process', { LOCAL_LAMBDA_RUNNER: 'worker-threads' })).toBe('in-process');
    expect(() => lambdaRunner(undefined, { LOCAL_LAMBDA_RUNNER: 'docker' })).toThrow(/LOCAL_LAMBDA_RUNNER must be one of in-process, worker-threads/);
  });
});

describe('environmentConflicts', () => {
  it('names a variable two functions of one service set to different values', () => {
    const config = {
      provider: { environment: { POWERTOOLS_SERVICE_NAME: 'invoice-stream-processor' } },
      functions: {
        getInvoice: { environment: { TABLE_NAME: 'invoices', STORE_API_KEYS: '{}' } },
        processInvoices: { environment: { TABLE_NAME: 'invoices', BAD_ROWS_BUCKET: 'archive' } },
        other: { environment: { TABLE_NAME: 'other-table', POWERTOOLS_SERVICE_NAME: 'other' } },
      },
    };
    expect(environmentConflicts(config)).toEqual(['POWERTOOLS_SERVICE_NAME', 'TABLE_NAME']);
  });

  it('finds none where functions share values or set variables of their own only', () => {
    const config = {
      provider: { environment: { NODE_OPTIONS: '--enable-source-maps' } },
      functions: { health: {}, postInvoices: { environment: { STREAM_NAME: 'invoice-ingest-local-invoices' } }, getInvoice: { environment: { NODE_OPTIONS: '--enable-source-maps' } } },
    };
    expect(environmentConflicts(config)).toEqual([]);
    expect(environmentConflicts(undefined)).toEqual([]);
  });
});
