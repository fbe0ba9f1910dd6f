import { FirehoseClient } from '@aws-sdk/client-firehose';

/** The warehouse delivery stream's client (`AWS_ENDPOINT_URL_FIREHOSE` offline). */
export function createFirehoseClient(): FirehoseClient {
  return new FirehoseClient({});
}
