/**
 * The customization document a task names (items and variables, kept in S3 by the functions),
 * fetched through its presigned GET URL and checked against the size and sha256 the task gives
 * before any of it is used.
 */
import { createHash } from 'node:crypto';
import {
  type CustomizationDocument,
  customizationDocument,
  type DocumentSource,
} from '../../statemachines/customization';
import { DocumentUnreadableError } from './errors';

const ATTEMPTS = 3;

async function fetchOnce(source: DocumentSource, signal?: AbortSignal): Promise<Buffer> {
  const res = await fetch(source.url, { signal });
  if (!res.ok) {
    await res.body?.cancel();
    throw new DocumentUnreadableError(source.key, `GET answered HTTP ${res.status}`);
  }
  return Buffer.from(await res.arrayBuffer());
}

export async function fetchDocument(source: DocumentSource, signal?: AbortSignal): Promise<CustomizationDocument> {
  let bytes: Buffer | undefined;
  for (let attempt = 1; !bytes; attempt++) {
    try {
      bytes = await fetchOnce(source, signal);
    } catch (e) {
      // A dropped connection is worth another try; an answer that says no is not.
      if (e instanceof DocumentUnreadableError || signal?.aborted || attempt >= ATTEMPTS)
        throw e instanceof DocumentUnreadableError
          ? e
          : new DocumentUnreadableError(source.key, (e as Error).message, { cause: e });
      await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
    }
  }
  if (bytes.length !== source.sizeBytes)
    throw new DocumentUnreadableError(source.key, `it has ${bytes.length} bytes, the task says ${source.sizeBytes}`);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (sha256 !== source.sha256)
    throw new DocumentUnreadableError(source.key, `its sha256 is ${sha256}, the task says ${source.sha256}`);
  let parsed: ReturnType<typeof customizationDocument.safeParse>;
  try {
    parsed = customizationDocument.safeParse(JSON.parse(bytes.toString('utf8')));
  } catch (e) {
    throw new DocumentUnreadableError(source.key, 'it is not JSON', { cause: e });
  }
  if (!parsed.success) throw new DocumentUnreadableError(source.key, 'it is not a customization document');
  if (parsed.data.items.length !== source.items)
    throw new DocumentUnreadableError(
      source.key,
      `it has ${parsed.data.items.length} items, the task says ${source.items}`,
    );
  return parsed.data;
}
