import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import { spawnChild } from './children';

/** An object-created notification, shaped after the fields of an S3 event record that callers use. */
export interface ObjectCreatedEvent {
  /** `ObjectCreated:Put`, `ObjectCreated:Post`, `ObjectCreated:Copy` or `ObjectCreated:CompleteMultipartUpload`. */
  eventName: string;
  bucket: string;
  key: string;
  size: number;
  eTag?: string;
}

export interface S3Local {
  endpoint: string;
  /** The server process (leader of its own process group). */
  pid: number;
  /** Resolves with the exit code (null when a signal ended it). */
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

const SERVER_ENTRY = fileURLToPath(new URL('./s3-server.mjs', import.meta.url));

/**
 * Client settings that s3rver understands: path-style addressing, and checksums only where required
 * (otherwise the SDK frames streamed bodies as aws-chunked and s3rver stores the framing as content).
 */
export function s3ClientConfig(endpoint: string): S3ClientConfig {
  return {
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // s3rver's own key pair; it takes any other key too.
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  };
}

/** Runs s3rver in a child node process on 127.0.0.1 with its objects in `dataDir` (kept across restarts). */
export async function startS3(o: {
  dataDir: string;
  port: number;
  logFile: string;
  buckets: string[];
  onObjectCreated?: (e: ObjectCreatedEvent) => void;
  onExit?: (code: number | null) => void;
}): Promise<S3Local> {
  mkdirSync(o.dataDir, { recursive: true, mode: 0o700 });
  const endpoint = `http://127.0.0.1:${o.port}`;
  const config = { port: o.port, address: '127.0.0.1', directory: o.dataDir, buckets: o.buckets };
  const child = await spawnChild({
    name: 'S3 server',
    command: process.execPath,
    args: ['--openssl-legacy-provider', SERVER_ENTRY, JSON.stringify(config)],
    logFile: o.logFile,
    readyTimeoutMs: 30_000,
    umask: 0o077,
    // s3rver creates the buckets before it listens, so any answer means ready.
    ready: async () => (await fetch(endpoint, { signal: AbortSignal.timeout(2000) })).status < 500,
    onExit: o.onExit,
    onMessage: (message) => {
      if (isObjectCreated(message)) {
        const { type: _type, ...event } = message;
        o.onObjectCreated?.(event);
      }
    },
  });
  return { endpoint, pid: child.pid, exited: child.exited, stop: () => child.stop() };
}

function isObjectCreated(m: unknown): m is ObjectCreatedEvent & { type: 'objectCreated' } {
  return typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'objectCreated';
}
