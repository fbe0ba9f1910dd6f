// The npm emulators (kinesalite, dynalite, s3rver) started in-process, the SDK client settings they need and the local
// credentials. Test starters are under `./testing`.
export * from './credentials';
export * from './clients';
export * from './emulators';
export * from './kinesis-records';
export * from './text';
export { forward as forwardRequest, readBody } from './http-proxy';
