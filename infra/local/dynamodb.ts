import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DynamoDBClient, type DynamoDBClientConfig, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { spawnChild } from './children';
import { PackageFileMissingError } from './errors';

const PACKAGE = 'amplify-dynamodb-simulator';

export interface DynamoDBLocal {
  endpoint: string;
  /** The server process (leader of its own process group). */
  pid: number;
  /** Resolves with the exit code (null when a signal ended it). */
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/** Client settings for DynamoDB Local: any credentials work, the region only has to be fixed. */
export function dynamoDBClientConfig(endpoint: string): DynamoDBClientConfig {
  return {
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  };
}

/** The directory holding DynamoDBLocal.jar and its native libraries, inside the npm package. */
export function dynamoDBLocalDir(): string {
  const require = createRequire(import.meta.url);
  let packageJson: string;
  try {
    packageJson = require.resolve(`${PACKAGE}/package.json`);
  } catch (err) {
    throw new PackageFileMissingError(PACKAGE, 'package.json', { cause: err });
  }
  const dir = join(dirname(packageJson), 'emulator');
  if (!existsSync(join(dir, 'DynamoDBLocal.jar')))
    throw new PackageFileMissingError(PACKAGE, 'emulator/DynamoDBLocal.jar');
  return dir;
}

/**
 * Runs DynamoDB Local with its data in `dataDir` (kept across restarts). It has no option to choose the
 * listening address, so it listens on every interface of the host; the endpoint handed out is 127.0.0.1.
 * `-sharedDb` makes every credential and region see the same tables (the SDK, the CLI and the functions
 * all sign with different dummy keys).
 */
export async function startDynamoDB(o: {
  dataDir: string;
  port: number;
  logFile: string;
  onExit?: (code: number | null) => void;
}): Promise<DynamoDBLocal> {
  const dir = dynamoDBLocalDir();
  mkdirSync(o.dataDir, { recursive: true, mode: 0o700 });
  const endpoint = `http://127.0.0.1:${o.port}`;
  const client = new DynamoDBClient({ ...dynamoDBClientConfig(endpoint), requestHandler: { requestTimeout: 2000 } });
  try {
    const child = await spawnChild({
      name: 'DynamoDB Local',
      command: 'java',
      args: [
        `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
        '-jar',
        join(dir, 'DynamoDBLocal.jar'),
        '-dbPath',
        o.dataDir,
        '-sharedDb',
        '-disableTelemetry',
        '-port',
        String(o.port),
      ],
      cwd: dir,
      logFile: o.logFile,
      // java cannot watch a lifeline pipe: the kernel's parent-death signal ends it with the stack.
      lifeline: 'deathsig',
      umask: 0o077,
      readyTimeoutMs: 60_000,
      ready: async () => {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        return true;
      },
      onExit: o.onExit,
    });
    return { endpoint, pid: child.pid, exited: child.exited, stop: () => child.stop() };
  } finally {
    client.destroy();
  }
}
