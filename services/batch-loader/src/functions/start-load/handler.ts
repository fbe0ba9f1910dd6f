import { GlueClient } from '@aws-sdk/client-glue';
import { Logger } from '@aws-lambda-powertools/logger';
import { requiredEnv } from '@invoice-pipeline/function-config';
import { startDumpLoad, type ObjectCreatedEvent } from './start-load';

const logger = new Logger();
const required = (name: string) => requiredEnv(process.env, 'startLoad', name);
const deps = { glue: new GlueClient({}), jobName: required('GLUE_JOB_NAME'), dumpsBucket: required('DUMPS_BUCKET') };

/** EventBridge: an object was created in the dumps bucket. */
export const main = async (event: ObjectCreatedEvent) => {
  const result = await startDumpLoad(event, deps);
  logger.info(result.started ? 'dump load started' : 'object ignored', { ...result });
  return result;
};
