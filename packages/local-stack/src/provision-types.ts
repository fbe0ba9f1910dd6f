export type { CfnResource } from './service-definitions';

/** A resource as the intrinsic resolver sees it: what `Ref` and `Fn::GetAtt …Arn` return. */
export interface ProvisionedResourceLike {
  type: string;
  name: string;
  ref: string;
  arn: string;
}
