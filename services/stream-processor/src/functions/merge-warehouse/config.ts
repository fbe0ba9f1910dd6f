import { requiredEnv } from '@invoice-pipeline/function-config';

/** Everything mergeWarehouse reads from its environment, read once per container and checked. */
export interface MergeWarehouseConfig {
  /** The warehouse service's staging bucket: Firehose stages under warehouse/, loaded files move to loaded/. */
  stagingBucket: string;
  workgroupName: string;
  database: string;
  /** The admin secret the Data API signs in with (never logged, never in a reply). */
  secretArn: string;
  /** The role Redshift assumes to COPY from the staging bucket. */
  copyRoleArn: string;
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): MergeWarehouseConfig {
  const required = (name: string) => requiredEnv(env, 'mergeWarehouse', name);
  return {
    stagingBucket: required('STAGING_BUCKET'),
    workgroupName: required('REDSHIFT_WORKGROUP'),
    database: required('REDSHIFT_DATABASE'),
    secretArn: required('REDSHIFT_SECRET_ARN'),
    copyRoleArn: required('REDSHIFT_COPY_ROLE_ARN'),
  };
}
