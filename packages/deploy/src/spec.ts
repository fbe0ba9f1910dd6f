import { loadAwsServiceSpecSync } from '@aws-cdk/aws-service-spec';
import type { StageTemplates } from './templates';

/**
 * Checks resource types, property names (nested ones too), required properties and `Fn::GetAtt` attributes against
 * the CloudFormation resource specification of @aws-cdk/aws-service-spec (the database aws-cdk-lib is generated
 * from; it ships in the package, so this works offline). A misspelt property fails here, not at deploy.
 */
type SpecType = { type: string; reference?: { $ref: string }; element?: SpecType; types?: SpecType[] };
type SpecProperty = { type: SpecType; required?: boolean };
type SpecDb = ReturnType<typeof loadAwsServiceSpecSync>;

let database: SpecDb | undefined;
const spec = (): SpecDb => (database ??= loadAwsServiceSpecSync());

const INTRINSIC = /^(Ref|Fn::[A-Za-z]+|Condition)$/;
const isIntrinsic = (value: unknown): boolean =>
  value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 1 && INTRINSIC.test(Object.keys(value)[0] as string);

function resourceSpec(type: string) {
  const found = spec().lookup('resource', 'cloudFormationType', 'equals', type);
  return found.length === 1 ? found[0] : undefined;
}

function checkValue(value: unknown, type: SpecType, path: string, problems: string[]): void {
  if (value === undefined || isIntrinsic(value)) return;
  switch (type.type) {
    case 'ref': {
      const definition = spec().get('typeDefinition', type.reference?.$ref as string) as unknown as { name: string; properties: Record<string, SpecProperty> };
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        problems.push(`${path}: expected an object (${definition.name})`);
        return;
      }
      checkProperties(value as Record<string, unknown>, definition.properties, path, problems);
      return;
    }
    case 'array':
      if (!Array.isArray(value)) problems.push(`${path}: expected a list`);
      else value.forEach((item, index) => checkValue(item, type.element as SpecType, `${path}[${index}]`, problems));
      return;
    case 'union': {
      const attempts = (type.types ?? []).map((member) => {
        const found: string[] = [];
        checkValue(value, member, path, found);
        return found;
      });
      if (!attempts.some((found) => found.length === 0)) problems.push(...(attempts[0] ?? []));
      return;
    }
    case 'string':
    case 'number':
    case 'integer':
    case 'boolean':
      if (value !== null && typeof value === 'object') problems.push(`${path}: expected a ${type.type}, got an object`);
      return;
    default:
      return; // json, map, date-time, tag: free-form enough to leave to CloudFormation
  }
}

function checkProperties(value: Record<string, unknown>, properties: Record<string, SpecProperty>, path: string, problems: string[]): void {
  for (const [name, propertyValue] of Object.entries(value)) {
    const property = properties[name];
    if (!property) {
      problems.push(`${path}.${name}: no such property (known: ${Object.keys(properties).sort().join(', ')})`);
      continue;
    }
    checkValue(propertyValue, property.type, `${path}.${name}`, problems);
  }
  for (const [name, property] of Object.entries(properties)) {
    if (property.required && !(name in value)) problems.push(`${path}.${name}: required property missing`);
  }
}

function checkGetAtts(value: unknown, types: Record<string, string>, path: string, problems: string[]): void {
  if (Array.isArray(value)) return value.forEach((item) => checkGetAtts(item, types, path, problems));
  if (value === null || typeof value !== 'object') return;
  for (const [key, inner] of Object.entries(value)) {
    if (key === 'Fn::GetAtt') {
      const [id, ...rest] = Array.isArray(inner) ? (inner as string[]) : String(inner).split('.');
      const attribute = rest.join('.');
      const type = types[String(id)];
      const resource = type ? resourceSpec(type) : undefined;
      if (!type) problems.push(`${path}: Fn::GetAtt of unknown resource ${id}`);
      else if (resource && !(attribute in resource.attributes)) problems.push(`${path}: ${type} has no attribute ${attribute}`);
    } else checkGetAtts(inner, types, path, problems);
  }
}

/** Problems of every template of a stage, as `service/LogicalId.Property: what is wrong`. */
export function validateAgainstSpec(templates: StageTemplates): string[] {
  const problems: string[] = [];
  for (const [service, template] of Object.entries(templates)) {
    const types = Object.fromEntries(Object.entries(template.Resources).map(([id, resource]) => [id, resource.Type]));
    for (const [id, resource] of Object.entries(template.Resources)) {
      const path = `${service}/${id}`;
      if (resource.Type.startsWith('Custom::') || resource.Type === 'AWS::CloudFormation::CustomResource') continue;
      const definition = resourceSpec(resource.Type);
      if (!definition) {
        problems.push(`${path}: unknown resource type ${resource.Type}`);
        continue;
      }
      checkProperties(resource.Properties ?? {}, definition.properties as unknown as Record<string, SpecProperty>, `${path}`, problems);
      checkGetAtts(resource.Properties ?? {}, types, path, problems);
    }
    checkGetAtts(template.Outputs ?? {}, types, `${service}/Outputs`, problems);
  }
  return problems;
}
