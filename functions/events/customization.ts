/**
 * Customization as assign and customize plan it. At accept, once: the clone's effective items and
 * variables after the request are merged and checked, and everything the operation will write is
 * known to fit before the agent changes a byte of the image: the new customization document (in S3,
 * store/customizations.ts, written now), the agent's report of the changes (through the workflow)
 * and the clone's record after the commit (DynamoDB's 400 KB). The commit stores what accept planned.
 */
import { type CustomizationItem, type DocumentRef, itemPath } from '../../statemachines/customization';
import type { TaskInput, TaskOutcome } from '../../statemachines/tasks';
import type { Deps } from '../deps';
import {
  invalidPatterns,
  missingVariables,
  templateOf,
  unknownVariables,
  withVariables,
} from '../domain/customization';
import { CustomizationTooLargeError, InvalidInputError, RecordTooLargeError, UnknownVariableError } from '../errors';
import { documentKey, MAX_DOCUMENT_BYTES } from '../store/customizations';
import { itemSize, MAX_ITEM_BYTES, utf8Bytes } from '../store/limits';
import type { Clone } from '../store/records';
import { revise } from '../store/resources';
import type { Accepting, Ending } from './entry';

/** The largest body of an assign or customize: its items and variables (the route answers 413 above it). */
export const MAX_CUSTOMIZATION_BODY_BYTES = 4 * 1024 * 1024;

/**
 * The agent reports one change per item applied; its report travels as the workflow's state, which
 * Step Functions holds to 256 KiB with the rest of the state.
 */
export const MAX_REPORT_BYTES = 200 * 1024;

/** What the operation keeps: the clone's document once it succeeds, and the range applied. */
export interface CustomizationPlan {
  document: DocumentRef;
  /** The request wrote `document` (a request that adds nothing keeps the clone's own). */
  wrote: boolean;
  from: number;
  to: number;
}

function check(items: CustomizationItem[], variables: Record<string, string>) {
  const missing = missingVariables(items, variables);
  if (missing.length)
    throw new InvalidInputError(
      `customization uses variables that are not given: ${missing.join(', ')}; add them to "variables"`,
      { missing },
    );
  const bad = invalidPatterns(items);
  if (bad.length)
    throw new InvalidInputError(`invalid regular expression: ${bad.join('; ')}; fix the pattern`, { problems: bad });
}

/** The agent's report of applying `items[from, to)`, as large as it can be: paths with their variables, both hashes. */
function largestReport(items: CustomizationItem[], variables: Record<string, string>, from: number, to: number) {
  const hash = 'f'.repeat(64);
  return items.slice(from, to).map((item, i) => ({
    index: from + i,
    path: withVariables(itemPath(item), variables),
    sha256Before: hash,
    sha256After: hash,
  }));
}

/** Refuses the request unless the clone's record after the commit fits in a DynamoDB item. */
function checkRecord(a: Accepting, changes: Partial<Clone>) {
  const after = revise<Clone>(a.clone, { ...changes, ...a.transition.to, lock: undefined }, a.deps.now());
  const { bytes, largest } = itemSize(a.deps.clones.toItem(after));
  if (bytes > MAX_ITEM_BYTES) throw new RecordTooLargeError('clone', bytes, MAX_ITEM_BYTES, largest);
}

/** What an assign or customize asks of the clone's customization. */
export interface CustomizationRequest {
  /** Items added after the clone's. */
  items?: CustomizationItem[];
  /** Variables added to the clone's (a name given again takes the new value). */
  variables?: Record<string, string>;
  /** The field path of `variables` in the request, for errors. */
  variablesAt: string;
  /** Apply the effective list up to this item (default: all). */
  to?: number;
}

/**
 * Refuses variables (at the field path `at` of the request) that no item of the clone's effective
 * list uses (its template, its own items and the request's): a misspelled name would be kept while
 * the variable the template needs is left out.
 */
export async function refuseUnknownVariables(
  deps: Deps,
  clone: Clone,
  items: CustomizationItem[],
  variables: Record<string, string> | undefined,
  at: string,
) {
  const { unknown, expected } = unknownVariables(items, variables);
  if (!unknown.length) return;
  const own = items.length > clone.template.length ? "the clone's own items" : '';
  throw new UnknownVariableError(at, unknown, expected, templateOf(await deps.masters.get(clone.master), own));
}

/**
 * Adds the request's items and variables to the clone's and applies the effective list up to `to`
 * (default: all). Items already applied stay; moving back is rollback's job. `changes` are the
 * request's other changes of the record (assign's machine).
 */
export async function planCustomization(
  a: Accepting,
  req: CustomizationRequest,
  changes: Partial<Clone> = {},
): Promise<{ request: CustomizationPlan; input: TaskInput<'customize'>; discard?: () => Promise<void> }> {
  const { deps, clone, image } = a;
  const { items: extra = [], variables = {}, to } = req;
  const own = clone.customization.document;
  // A clone without a document (new, or recorded before documents) gets one now; the commit drops what was inline.
  const current = await deps.customizations.of(clone);
  const doc = { items: [...current.items, ...extra], variables: { ...current.variables, ...variables } };
  await refuseUnknownVariables(deps, clone, doc.items, variables, req.variablesAt);
  const from = clone.customization.applied;
  const upTo = to ?? doc.items.length;
  if (upTo < from)
    throw new InvalidInputError(
      `"to" (${upTo}) is below the ${from} applied items; use the rollback event to move back`,
    );
  if (upTo > doc.items.length)
    throw new InvalidInputError(`"to" (${upTo}) is past the last item (${doc.items.length} items)`);
  check(doc.items.slice(from, upTo), doc.variables);

  const report = largestReport(doc.items, doc.variables, from, upTo);
  const reportBytes = utf8Bytes(JSON.stringify({ applied: upTo, changes: report }));
  if (reportBytes > MAX_REPORT_BYTES)
    throw new CustomizationTooLargeError(
      `the agent's report of applying items ${from} to ${upTo - 1}`,
      reportBytes,
      MAX_REPORT_BYTES,
      'apply fewer items at a time: customize with "to" applies up to that item (staged apply)',
    );
  const wrote = !own || extra.length > 0 || Object.keys(variables).length > 0;
  const encoded = wrote ? await deps.customizations.encode(doc) : undefined;
  if (encoded && encoded.sizeBytes > MAX_DOCUMENT_BYTES)
    throw new CustomizationTooLargeError(
      "the clone's customization (its master's items, its own and its variables)",
      encoded.sizeBytes,
      MAX_DOCUMENT_BYTES,
      'put large files in the repository and name them with "source" instead of "content"',
    );
  // Until the new document is written, a reference of the same size stands for it.
  const planned: DocumentRef = encoded
    ? { key: documentKey(clone.id), sha256: encoded.sha256, sizeBytes: encoded.sizeBytes, items: doc.items.length }
    : own!;
  const kept = clone.customization.changes.filter((c) => c.index < from);
  checkRecord(a, { ...changes, customization: { document: planned, applied: upTo, changes: [...kept, ...report] } });

  const document = encoded ? await deps.customizations.put(clone.id, encoded, doc.items.length) : planned;
  return {
    request: { document, wrote, from, to: upTo },
    input: { image, customization: await deps.customizations.source(document), from, to: upTo },
    discard: encoded ? () => deps.customizations.delete(document.key) : undefined,
  };
}

/** The clone's customization once the agent applied the planned range; the document it replaces goes after. */
export function customizationAfter(
  e: Ending<CustomizationPlan>,
  outcome: TaskOutcome<'customize'>,
): { customization: Clone['customization']; after?: () => Promise<void> } {
  const { clone, request: plan } = e;
  const replaced = clone.customization.document?.key;
  return {
    customization: {
      document: plan.document,
      applied: outcome.applied,
      changes: [...clone.customization.changes.filter((c) => c.index < plan.from), ...outcome.changes],
    },
    after: plan.wrote && replaced ? () => e.deps.customizations.delete(replaced) : undefined,
  };
}

/** A failed request's document is named by no record: it goes. */
export async function discardDocument(e: Ending<CustomizationPlan>): Promise<void> {
  if (e.request.wrote && e.request.document.key !== e.clone.customization.document?.key)
    await e.deps.customizations.delete(e.request.document.key);
}
