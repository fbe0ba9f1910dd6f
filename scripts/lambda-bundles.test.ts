import { bundleHandler, handlerFiles, toolingIn } from './lambda-bundles';

/** Lambda code carries only what Lambda runs: no handler bundle may pull in the CSV/dataset tooling. */
describe('Lambda handler bundles', () => {
  const handlers = handlerFiles();

  it('finds the handlers of every service', () => {
    expect(handlers).toEqual(expect.arrayContaining(['services/ingest/src/functions/post-invoices/handler.ts', 'services/stream-processor/src/functions/process-invoices/handler.ts']));
  });

  it.each(handlers)('%s carries no file or dataset tooling', async (handler) => {
    const bundle = await bundleHandler(handler);
    expect(bundle.inputs.length).toBeGreaterThan(0);
    expect(toolingIn(bundle)).toEqual([]);
  }, 60_000);
});
