/**
 * The image catalog in S3: one JSON document per master version (with lineage), and one log per
 * finished operation. DynamoDB stays the source of truth for live state; the catalog is what an
 * export, an audit or a human browsing the bucket reads.
 */
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../config';
import type { Master, Operation } from './records';

export function s3Client(config: Config): S3Client {
  return new S3Client({
    region: config.region,
    endpoint: config.endpoints.s3,
    credentials: config.credentials,
    // Path-style addressing and checksums only when required keep S3-compatible servers happy.
    forcePathStyle: Boolean(config.endpoints.s3),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export const masterDocKey = (m: Pick<Master, 'name' | 'version'>) => `catalog/masters/${m.name}/v${m.version}.json`;
export const operationLogKey = (op: Pick<Operation, 'id' | 'createdAt'>) =>
  `operations/${op.createdAt.slice(0, 10)}/${op.id}.json`;

export class Catalog {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  private async putJson(key: string, value: unknown): Promise<void> {
    await this.putText(key, JSON.stringify(value, null, 2));
  }

  /** Stores `body` as is (a document whose sha256 is recorded must be stored byte for byte). */
  async putText(key: string, body: string): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: 'application/json' }),
    );
  }

  /** The object's text; undefined when there is none. */
  async getText(key: string): Promise<string | undefined> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return await out.Body!.transformToString();
    } catch (e) {
      if ((e as Error).name === 'NoSuchKey') return undefined;
      throw e;
    }
  }

  async getJson<T>(key: string): Promise<T | undefined> {
    const text = await this.getText(key);
    return text === undefined ? undefined : (JSON.parse(text) as T);
  }

  async putMaster(m: Master): Promise<string> {
    const key = masterDocKey(m);
    const { rev: _rev, operation: _op, ...doc } = m;
    await this.putJson(key, { ...doc, lineage: { parent: m.parent ?? null, sourceClone: m.sourceClone ?? null } });
    return key;
  }

  async deleteMaster(m: Master): Promise<void> {
    await this.deleteObject(masterDocKey(m));
  }

  async deleteObject(key: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  async putOperationLog(op: Operation): Promise<string> {
    const key = operationLogKey(op);
    await this.putJson(key, op);
    return key;
  }

  /** Is the bucket reachable? */
  async ping(): Promise<void> {
    await this.getJson('health-probe');
  }
}
