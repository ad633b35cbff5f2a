/** Presigned S3 URLs: how uploaders and agents move image bytes without AWS credentials. */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

export class Presigner {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  put(key: string, expiresIn: number): Promise<string> {
    return getSignedUrl(this.s3, new PutObjectCommand({ Bucket: this.bucket, Key: key }), { expiresIn });
  }

  get(key: string, expiresIn: number): Promise<string> {
    return getSignedUrl(this.s3, new GetObjectCommand({ Bucket: this.bucket, Key: key }), { expiresIn });
  }

  /** Starts a multipart upload and presigns each part, the completion and the abort. */
  async multipart(key: string, parts: number, expiresIn: number) {
    const { UploadId } = await this.s3.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key }));
    const base = { Bucket: this.bucket, Key: key, UploadId };
    const urls = await Promise.all(
      Array.from({ length: parts }, async (_, i) => ({
        partNumber: i + 1,
        url: await getSignedUrl(this.s3, new UploadPartCommand({ ...base, PartNumber: i + 1 }), { expiresIn }),
      })),
    );
    return {
      uploadId: UploadId!,
      parts: urls,
      // POST this with <CompleteMultipartUpload><Part><PartNumber/><ETag/></Part>…</CompleteMultipartUpload>.
      complete: {
        method: 'POST',
        url: await getSignedUrl(this.s3, new CompleteMultipartUploadCommand(base), { expiresIn }),
      },
      abort: {
        method: 'DELETE',
        url: await getSignedUrl(this.s3, new AbortMultipartUploadCommand(base), { expiresIn }),
      },
    };
  }
}
