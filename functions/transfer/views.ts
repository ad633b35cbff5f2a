/** Exports and imports as the API shows them: the record, without what only the commit reads. */
import type { Deps } from '../deps';
import { type ExportRecord, exportsOf, type ImportRecord, importsOf } from './records';

export function exportView(r: ExportRecord) {
  const { rev: _, name: __, ...view } = r;
  return view;
}

export function importView(r: ImportRecord) {
  const { rev: _, name: __, objects: ___, documents: ____, machinesDoc: _____, ...view } = r;
  return view;
}

export const getExport = async (deps: Deps, id: string) => exportView(await exportsOf(deps).require(id));
export const getImport = async (deps: Deps, id: string) => importView(await importsOf(deps).require(id));

export async function listExports(deps: Deps, page: { limit?: number; cursor?: string }) {
  const p = await exportsOf(deps).list(page);
  return { items: p.items.map(exportView), ...(p.cursor ? { cursor: p.cursor } : {}) };
}

export async function listImports(deps: Deps, page: { limit?: number; cursor?: string }) {
  const p = await importsOf(deps).list(page);
  return { items: p.items.map(importView), ...(p.cursor ? { cursor: p.cursor } : {}) };
}
