export const LOCAL_REGION = 'eu-west-2';
export const LOCAL_ACCOUNT = '000000000000';
/** kinesalite and dynalite accept any credentials; s3rver only its own, so every client uses those. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;
