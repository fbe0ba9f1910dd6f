import type { CfnResource, ProvisionedResourceLike } from './provision-types';

/**
 * Resolves the CloudFormation intrinsics the services use (Ref, Fn::GetAtt, Fn::Sub, Fn::Join) against the
 * resources the local stack created, so names and ARNs come from the one definition.
 */
export function resolveIntrinsics(value: unknown, resources: Record<string, ProvisionedResourceLike>): unknown {
  if (Array.isArray(value)) return value.map((item) => resolveIntrinsics(item, resources));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>);
  const [key, argument] = entries[0] ?? [];
  if (entries.length === 1 && key === 'Ref') return lookup(resources, String(argument)).ref;
  if (entries.length === 1 && key === 'Fn::GetAtt') {
    const [logicalId, attribute] = Array.isArray(argument) ? (argument as string[]) : String(argument).split('.');
    return attributeOf(lookup(resources, String(logicalId)), String(attribute));
  }
  if (entries.length === 1 && key === 'Fn::Sub') {
    const template = Array.isArray(argument) ? String(argument[0]) : String(argument);
    return template.replace(/\$\{([\w]+)(?:\.(\w+))?\}/g, (_match, logicalId: string, attribute?: string) => {
      const resource = lookup(resources, logicalId);
      return attribute ? attributeOf(resource, attribute) : resource.ref;
    });
  }
  if (entries.length === 1 && key === 'Fn::Join') {
    const [separator, parts] = argument as [string, unknown[]];
    return (resolveIntrinsics(parts, resources) as unknown[]).join(separator);
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, resolveIntrinsics(v, resources)]));
}

function lookup(resources: Record<string, ProvisionedResourceLike>, logicalId: string): ProvisionedResourceLike {
  const resource = resources[logicalId];
  if (!resource) throw new Error(`unknown resource ${logicalId} in a Ref/GetAtt/Sub`);
  return resource;
}

function attributeOf(resource: ProvisionedResourceLike, attribute: string): string {
  if (attribute === 'Arn') return resource.arn;
  if (attribute === 'StreamArn' || attribute === 'QueueUrl') return resource.ref;
  if (attribute === 'QueueName') return resource.name;
  throw new Error(`attribute ${attribute} of ${resource.type} is not emulated`);
}

export type { CfnResource };
