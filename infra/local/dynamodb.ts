import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DynamoDBClient, type DynamoDBClientConfig, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { spawnChild } from './children';
import { PackageFileMissingError } from './errors';
import { forwardToSocket, isolatedCommand } from './netns';

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

/** DynamoDB Local's port inside its own network namespace, where nothing else listens. */
const INNER_PORT = 8000;

/**
 * Runs DynamoDB Local with its data in `dataDir` (kept across restarts). It has no option to choose the
 * listening address and would listen on every interface of the host, so it runs in a network namespace
 * of its own (netns.ts): the only way in is the 0600 socket `<dataDir>/../dynamodb.sock`, which the
 * stack forwards from 127.0.0.1:`port`.
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
  const client = new DynamoDBClient({
    ...dynamoDBClientConfig(endpoint),
    requestHandler: { requestTimeout: 2000, throwOnRequestTimeout: true },
  });
  const socket = join(dirname(o.dataDir), 'dynamodb.sock');
  const isolated = isolatedCommand({
    socket,
    innerPort: INNER_PORT,
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
      String(INNER_PORT),
    ],
  });
  const forward = await forwardToSocket({ port: o.port, socket });
  try {
    const child = await spawnChild({
      name: 'DynamoDB Local',
      command: isolated.command,
      args: isolated.args,
      cwd: dir,
      logFile: o.logFile,
      // The bridge in the namespace watches the lifeline pipe; java has a parent-death signal from it.
      lifeline: 'stdin',
      umask: 0o077,
      readyTimeoutMs: 60_000,
      ready: async () => {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        return true;
      },
      onExit: o.onExit,
    });
    void child.exited.then(() => forward.close());
    return { endpoint, pid: child.pid, exited: child.exited, stop: () => child.stop().finally(() => forward.close()) };
  } catch (err) {
    await forward.close();
    throw err;
  } finally {
    client.destroy();
  }
}
