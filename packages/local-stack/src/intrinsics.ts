/** A resource as the intrinsic resolver sees it: what `Ref` and `Fn::GetAtt …Arn` return. */
export interface ProvisionedResourceLike {
  type: string;
  name: string;
  ref: string;
  arn: string;
}

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
    return template.replace(/\$\{([\w:]+)(?:\.(\w+))?\}/g, (_match, logicalId: string, attribute?: string) => {
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

/**
 * Resources the framework generates (log groups, functions) or pseudo parameters are not in `resources`: they get a
 * placeholder, which only ever ends up in things the local stack does not emulate (IAM policies).
 */
function lookup(resources: Record<string, ProvisionedResourceLike>, logicalId: string): ProvisionedResourceLike {
  return resources[logicalId] ?? { type: 'unresolved', name: logicalId, ref: logicalId, arn: `arn:aws:local:::${logicalId}` };
}

function attributeOf(resource: ProvisionedResourceLike, attribute: string): string {
  if (attribute === 'Arn') return resource.arn;
  if (attribute === 'QueueUrl') return resource.ref;
  return resource.name;
}
