import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * The invoice table's document client, created once per container. The endpoint is the SDK's own
 * (`AWS_ENDPOINT_URL_DYNAMODB` points it at dynalite), so the same code runs in Lambda and offline.
 */
export function createDocumentClient(): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
}

/** For the read functions: numbers come back as their exact text (NumberValue), never as a float. */
export function createReadClient(): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient({}), { unmarshallOptions: { wrapNumbers: true } });
}
