/** What a running import claims in a repository: the places of the images its plan copies (and their partials). */
import type { Deps } from '../deps';
import type { Operation } from '../store/records';
import { importsOf } from './records';

export async function importTargets(deps: Deps, op: Operation, repository: string): Promise<string[]> {
  if (op.kind !== 'bundle_import') return [];
  const rec = await importsOf(deps).get(op.request.import as string);
  return (rec?.plan?.copy.images ?? []).filter((i) => i.target.repository.id === repository).map((i) => i.target.path);
}
