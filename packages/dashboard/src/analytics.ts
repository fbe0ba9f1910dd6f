import {
  badRowReject,
  dumpRowsReject,
  linesVersion,
  prepareAnalytics,
  rebuildAnalytics,
  recordRejects,
  runAnalytics,
  type AnalyticsDb,
  type AnalyticsQueryName,
  type AnalyticsResults,
  type ListedObject,
  type PipelineReject,
} from '@invoice-pipeline/warehouse/analytics';

/** Where set-aside rows are listed from (S3 locally and in AWS; see s3-rejects.ts). */
export interface RejectSource {
  source: PipelineReject['source'];
  list(): Promise<ListedObject[]>;
  /** The text of an object (files of rejected dump rows are counted by line). */
  read(key: string): Promise<string>;
}

/**
 * Keeps the analytics layer current and runs queries: creates the analytics tables once, records rejects not yet
 * recorded, rebuilds the dimensional layer when invoice_lines changed since the last rebuild.
 */
export class AnalyticsReader {
  private prepared = false;
  private builtVersion: string | undefined;

  constructor(
    readonly db: AnalyticsDb,
    private readonly rejectSources: readonly RejectSource[] = [],
  ) {}

  /** Brings the analytics layer up to date; returns whether the dimensional layer was rebuilt. */
  async update(): Promise<boolean> {
    if (!this.prepared) {
      await prepareAnalytics(this.db);
      this.prepared = true;
    }
    for (const source of this.rejectSources) await recordRejects(this.db, await listRejects(source));
    const version = await linesVersion(this.db);
    if (version === this.builtVersion) return false;
    await rebuildAnalytics(this.db);
    this.builtVersion = version;
    return true;
  }

  async read<Name extends AnalyticsQueryName>(names: readonly Name[]): Promise<Pick<AnalyticsResults, Name>> {
    await this.update();
    return runAnalytics(this.db, names);
  }
}

async function listRejects(source: RejectSource): Promise<PipelineReject[]> {
  const objects = await source.list();
  if (source.source === 'bad-row') return objects.map(badRowReject);
  const rejects: PipelineReject[] = [];
  for (const object of objects) rejects.push(dumpRowsReject(object, await source.read(object.key)));
  return rejects;
}

/** Seconds between two warehouse timestamps ("YYYY-MM-DD HH:MI:SS", one clock). */
export function secondsBetween(from: string | null | undefined, to: string | null | undefined): number | null {
  if (!from || !to) return null;
  return (Date.parse(`${to.replace(' ', 'T')}Z`) - Date.parse(`${from.replace(' ', 'T')}Z`)) / 1000;
}
