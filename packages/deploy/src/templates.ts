import { readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';

/** A CloudFormation template as `sls package` writes it. */
export interface Template {
  Resources: Record<string, Resource>;
  Outputs?: Record<string, { Value: unknown }>;
  Conditions?: Record<string, unknown>;
}

export interface Resource {
  Type: string;
  Properties?: Record<string, unknown>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
  Condition?: string;
  DependsOn?: unknown;
}

/** Every service's template of one stage, by compose key (`ingest`, `stream-processor`, ...). */
export type StageTemplates = Record<string, Template>;

export function readStageTemplates(dir: string): StageTemplates {
  return Object.fromEntries(
    readdirSync(dir)
      .filter((file) => file.endsWith('.json'))
      .map((file) => [basename(file, '.json'), JSON.parse(readFileSync(join(dir, file), 'utf8')) as Template]),
  );
}

/** A resource with the service and logical id it was found under. */
export interface Found {
  service: string;
  id: string;
  resource: Resource;
}

export function resourcesOfType(templates: StageTemplates, type: string): Found[] {
  return Object.entries(templates).flatMap(([service, template]) =>
    Object.entries(template.Resources)
      .filter(([, resource]) => resource.Type === type)
      .map(([id, resource]) => ({ service, id, resource })),
  );
}

export const where = (found: Pick<Found, 'service' | 'id'>): string => `${found.service}/${found.id}`;

/** Follows a path of property names; undefined where any step is missing. */
export function prop(value: unknown, ...path: string[]): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** The logical id a `Ref`, `Fn::GetAtt` or `Fn::Sub` (first `${Id...}`) points at. */
export function referencedId(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const ref = prop(value, 'Ref');
  if (typeof ref === 'string') return ref;
  const getAtt = prop(value, 'Fn::GetAtt');
  if (Array.isArray(getAtt)) return String(getAtt[0]);
  if (typeof getAtt === 'string') return getAtt.split('.')[0];
  const sub = prop(value, 'Fn::Sub');
  const text = Array.isArray(sub) ? sub[0] : sub;
  if (typeof text === 'string') return /\$\{([A-Za-z0-9]+)/.exec(text)?.[1];
  return undefined;
}

export interface Statement {
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource?: unknown;
  Principal?: unknown;
  Condition?: unknown;
}

export const asList = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/** The Allow statements of a role's inline policies. */
export function roleStatements(role: Resource): Statement[] {
  const policies = asList(prop(role, 'Properties', 'Policies') as unknown[] | undefined);
  return policies.flatMap((policy) => asList(prop(policy, 'PolicyDocument', 'Statement') as Statement[] | undefined));
}

/** Every string anywhere in a value (intrinsic arguments included). */
export function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

/** A deep copy to mutate in tests. */
export const clone = <T>(value: T): T => structuredClone(value);
