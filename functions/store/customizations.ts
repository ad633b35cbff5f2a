/**
 * Customization documents in the catalog bucket: a clone's items and variables, which can grow far
 * past what a DynamoDB item (400 KB) or a workflow payload (256 KiB) holds, are kept as one S3
 * object per operation that changes them, `customizations/<clone>/<random>.json`, written once and
 * never changed. Records and workflows carry only its `DocumentRef` (key, sha256, size, count); the
 * agent reads it through a presigned GET URL.
 *
 * Lifetime: the document a clone's record names lives as long as the clone; the one a failed
 * operation wrote is deleted when the failure is recorded, the one a new document replaces once the
 * commit that replaces it is recorded, and a destroyed clone's with it.
 */

import { AGENT_TIMEOUT_SECONDS } from '../../statemachines/constants';
import {
  type CustomizationDocument,
  customizationDocument,
  type DocumentRef,
  type DocumentSource,
} from '../../statemachines/customization';
import { CustomizationUnreadableError } from '../errors';
import type { Catalog } from './catalog';
import { randomString } from './ids';
import type { Presigner } from './presigner';
import type { Clone } from './records';

/** The largest customization document a clone may have: its template, its items and its variables, as JSON. */
export const MAX_DOCUMENT_BYTES = 16 * 1024 * 1024;

export const documentPrefix = 'customizations/';

async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A document as it is stored: its text, and the sha256 and size a reference to it gives. */
export interface EncodedDocument {
  text: string;
  sha256: string;
  sizeBytes: number;
}

/** The key a new document of `clone` gets. */
export const documentKey = (clone: string) => `${documentPrefix}${clone}/${randomString(12)}.json`;

/**
 * What a clone without a document holds in its record: its template, then the items and variables
 * a record written before customization documents keeps inline (none in a newer one).
 */
export function inlineDocument(clone: Pick<Clone, 'template' | 'customization'>): CustomizationDocument {
  const { items = [], variables = {} } = clone.customization;
  return { items: [...clone.template, ...items], variables };
}

/** How many effective items the clone has, without reading its document. */
export function itemCount(clone: Pick<Clone, 'template' | 'customization'>): number {
  return clone.customization.document?.items ?? inlineDocument(clone).items.length;
}

export class Customizations {
  constructor(
    private readonly catalog: Catalog,
    private readonly presigner: Presigner,
  ) {}

  async encode(doc: CustomizationDocument): Promise<EncodedDocument> {
    const text = JSON.stringify(doc);
    const bytes = new TextEncoder().encode(text);
    return { text, sha256: await sha256Hex(bytes), sizeBytes: bytes.length };
  }

  /** Stores a new document of `clone` (holding `items` items) under a key of its own. */
  async put(clone: string, doc: EncodedDocument, items: number): Promise<DocumentRef> {
    const key = documentKey(clone);
    await this.catalog.putText(key, doc.text);
    return { key, sha256: doc.sha256, sizeBytes: doc.sizeBytes, items };
  }

  /** The document `ref` names, checked against its sha256: CustomizationUnreadableError if gone or altered. */
  async get(ref: DocumentRef): Promise<CustomizationDocument> {
    const text = await this.catalog.getText(ref.key);
    if (text === undefined) throw new CustomizationUnreadableError(ref.key, 'it is not in the bucket');
    const sha256 = await sha256Hex(new TextEncoder().encode(text));
    if (sha256 !== ref.sha256)
      throw new CustomizationUnreadableError(ref.key, `its sha256 is ${sha256}, the record says ${ref.sha256}`);
    const parsed = customizationDocument.safeParse(JSON.parse(text));
    if (!parsed.success) throw new CustomizationUnreadableError(ref.key, 'it is not a customization document');
    return parsed.data;
  }

  /** The clone's items and variables: its document's, else those its record holds (see `inlineDocument`). */
  async of(clone: Pick<Clone, 'template' | 'customization'>): Promise<CustomizationDocument> {
    const ref = clone.customization.document;
    return ref ? this.get(ref) : inlineDocument(clone);
  }

  /** What the agent gets: the reference and a GET URL valid as long as the workflow may run. */
  async source(ref: DocumentRef): Promise<DocumentSource> {
    return { ...ref, url: await this.presigner.get(ref.key, AGENT_TIMEOUT_SECONDS + 600) };
  }

  async delete(key: string): Promise<void> {
    await this.catalog.deleteObject(key);
  }
}
