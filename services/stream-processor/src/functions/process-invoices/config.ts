import { getEnvVariable } from '../../lib/env';

/** Read once at cold start: a missing name fails the first invocation loudly, not a record deep in a batch. */
export const config = {
  tableName: getEnvVariable('TABLE_NAME'),
  warehouseDeliveryStream: getEnvVariable('WAREHOUSE_DELIVERY_STREAM'),
  badRowsBucket: getEnvVariable('BAD_ROWS_BUCKET'),
} as const;
