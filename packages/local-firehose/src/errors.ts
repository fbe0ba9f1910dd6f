/** The error codes the local Firehose answers with, as the Firehose JSON API names them in `__type`. */
export type FirehoseErrorCode =
  | 'InvalidArgumentException'
  | 'ResourceInUseException'
  | 'ResourceNotFoundException'
  | 'ServiceUnavailableException'
  | 'ValidationException'
  | 'SerializationException'
  | 'UnknownOperationException'
  | 'InternalFailure';

/** An API error: rendered as `{ "__type": code, "message": … }` with the status code of the service model. */
export class FirehoseError extends Error {
  constructor(
    readonly code: FirehoseErrorCode,
    message: string,
  ) {
    super(message);
    this.name = code;
  }

  /** The service model gives ServiceUnavailableException 503 (so SDKs retry it); every other modelled error is a 400. */
  get statusCode(): number {
    if (this.code === 'ServiceUnavailableException') return 503;
    if (this.code === 'InternalFailure') return 500;
    return 400;
  }
}

export function invalidArgument(message: string): FirehoseError {
  return new FirehoseError('InvalidArgumentException', message);
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.name && error.name !== 'Error' ? `${error.name}: ${error.message}` : error.message;
  return String(error);
}
