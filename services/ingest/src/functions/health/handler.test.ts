import { main } from './handler';

it('reports liveness', async () => {
  const reply = await main();
  expect(reply.statusCode).toBe(200);
  expect(JSON.parse(reply.body)).toEqual({ status: 'ok', service: 'ingest' });
});
