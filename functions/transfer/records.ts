/** The records of exports and imports: one each, beside the operation that runs it. */
import type { BundleObject, Manifest } from '../../statemachines/bundle';
import type { Deps } from '../deps';
import type { Base } from '../store/records';
import { Resources } from '../store/resources';
import type { Plan } from './plan-shape';

export interface ExportRecord extends Base {
  status: 'running' | 'succeeded' | 'failed';
  operation: string;
  site: string;
  masters: string[];
  include: { clones: boolean; machines: boolean; customization: boolean };
  /** Where the bundle is: a folder of a file repository, or S3 under `key`. */
  to: { repository: string; path: string } | { s3: string };
  /** What was left out, and why (a linked clone, which needs its master's file). */
  notes: string[];
  objects?: number;
  bytes?: number;
  error?: { code: string; message: string };
}

export interface ImportRecord extends Base {
  status: 'running' | 'planned' | 'succeeded' | 'failed';
  operation: string;
  site: string;
  bundle: { repository: string; path: string } | { s3: string };
  dryRun: boolean;
  onConflict: 'skip' | 'rename' | 'fail';
  rebinding: { repositories: Record<string, string>; machines: Record<string, string>; sites: Record<string, string> };
  /** The source of the bundle, once verified. */
  source?: Pick<Manifest, 'export' | 'exportedAt' | 'site'>;
  plan?: Plan;
  /** The manifest's image entries by object id, its documents by bundle path, and which one lists the machines: what the commit writes from. */
  objects?: Record<string, BundleObject>;
  documents?: Record<string, string>;
  machinesDoc?: string;
  error?: { code: string; message: string };
}

export const exportsOf = (deps: Deps) => new Resources<ExportRecord>(deps.db, 'export');
export const importsOf = (deps: Deps) => new Resources<ImportRecord>(deps.db, 'import');

/** S3 keys of a bundle: under `exports/<id>/`. */
export const s3Prefix = (exportId: string) => `exports/${exportId}/`;
