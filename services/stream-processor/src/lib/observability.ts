import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

/**
 * Logger and metrics of the service, configured by the POWERTOOLS_* environment of serverless.yml (service name,
 * metrics namespace: one namespace for every service). Logs carry invoice numbers and counts, never customer data.
 */
export const logger = new Logger();
export const metrics = new Metrics();
