import { StartJobRunCommand } from '@aws-sdk/client-glue';
import { startDumpLoad, type ObjectCreatedEvent } from './start-load';

const eventFor = (key: string, bucket = 'dumps', size = 10): ObjectCreatedEvent => ({
  'detail-type': 'Object Created',
  detail: { bucket: { name: bucket }, object: { key, size } },
});

function fakeGlue(runId: string | undefined = 'jr_1') {
  const sent: StartJobRunCommand[] = [];
  return { sent, glue: { send: jest.fn(async (command: StartJobRunCommand) => (sent.push(command), { JobRunId: runId })) } };
}

describe('startDumpLoad', () => {
  it('starts one job run for exactly the file that arrived (URL-decoded key)', async () => {
    const { glue, sent } = fakeGlue();
    const result = await startDumpLoad(eventFor('incoming/store+7/2011-12-09%2B1.csv'), { glue: glue as never, jobName: 'load-dump', dumpsBucket: 'dumps' });
    expect(result).toEqual({ started: true, jobRunId: 'jr_1', key: 'incoming/store 7/2011-12-09+1.csv' });
    expect(sent.map((c) => c.input)).toEqual([{ JobName: 'load-dump', Arguments: { '--dump_key': 'incoming/store 7/2011-12-09+1.csv' } }]);
  });

  it.each([
    ['processed/a.csv', 'dumps', 10, /not a dump under incoming/],
    ['incoming/', 'dumps', 0, /not a dump/],
    ['incoming/a.csv', 'other', 10, /not the dumps bucket/],
    ['incoming/a.csv', 'dumps', 0, /empty object/],
  ])('ignores %s in %s (size %d), saying why', async (key, bucket, size, reason) => {
    const { glue, sent } = fakeGlue();
    const result = await startDumpLoad(eventFor(key, bucket, size), { glue: glue as never, jobName: 'load-dump', dumpsBucket: 'dumps' });
    expect(result).toEqual({ started: false, key: expect.any(String), reason: expect.stringMatching(reason) });
    expect(sent).toEqual([]);
  });

  it('fails (so Lambda retries the event) when Glue refuses the run', async () => {
    const glue = { send: jest.fn(async () => Promise.reject(Object.assign(new Error('Max concurrent runs exceeded'), { name: 'ConcurrentRunsExceededException' }))) };
    await expect(startDumpLoad(eventFor('incoming/a.csv'), { glue: glue as never, jobName: 'load-dump', dumpsBucket: 'dumps' })).rejects.toThrow(/concurrent/);
  });
});
