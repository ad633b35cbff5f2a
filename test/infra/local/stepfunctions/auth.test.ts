/**
 * Who may talk to the local Step Functions endpoint: only a client signing with the credentials the endpoint
 * handed out. Every refusal is checked to have changed nothing, to carry the AWS error, and to be logged
 * without its signature.
 */
import {
  CreateStateMachineCommand,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  SFNClient,
  type SFNClientConfig,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCredentials } from '../../../../infra/local/sigv4';
import { type StepFunctionsEndpoint, startStepFunctions } from '../../../../infra/local/stepfunctions';

let endpoint: StepFunctionsEndpoint;
let stateMachineArn: string;
const logs: string[] = [];
const clients: SFNClient[] = [];
const definition = JSON.stringify({ StartAt: 'P', States: { P: { Type: 'Pass', End: true } } });

function client(overrides: Partial<SFNClientConfig> = {}): SFNClient {
  const made = new SFNClient({
    endpoint: endpoint.endpoint,
    region: endpoint.region,
    credentials: endpoint.credentials,
    // Refusals are what these tests are about: no retries that would only repeat them.
    maxAttempts: 1,
    ...overrides,
  });
  clients.push(made);
  return made;
}

/** The thrown error of a call that must fail (a call that succeeds fails the test). */
async function failure(promise: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail, and it succeeded');
}

const start = (c: SFNClient, name: string) => c.send(new StartExecutionCommand({ stateMachineArn, name }));
const executions = async () =>
  ((await client().send(new ListExecutionsCommand({ stateMachineArn }))).executions ?? []).map((e) => e.name);

/** A raw POST of a JSON 1.0 request, with whatever headers a test gives. */
async function post(headers: Record<string, string>) {
  const response = await fetch(endpoint.endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': 'AWSStepFunctions.StartExecution',
      ...headers,
    },
    body: JSON.stringify({ stateMachineArn, name: 'raw' }),
  });
  return { status: response.status, body: (await response.json()) as { __type: string; message: string } };
}

beforeAll(async () => {
  endpoint = await startStepFunctions({ port: 0, invokeFunction: async () => null, log: (l) => logs.push(l) });
  const created = await client().send(
    new CreateStateMachineCommand({ name: 'guarded', definition, roleArn: 'arn:aws:iam::000000000000:role/sfn' }),
  );
  stateMachineArn = created.stateMachineArn!;
});

afterAll(async () => {
  for (const c of clients) c.destroy();
  await endpoint?.stop();
});

describe('startStepFunctions', () => {
  it('hands out a fresh key pair when given none, and keeps one it is given', async () => {
    expect(endpoint.credentials.accessKeyId).toMatch(/^[A-Z2-7]{20}$/);
    expect(endpoint.credentials.secretAccessKey.length).toBeGreaterThanOrEqual(40);
    const given = generateCredentials();
    const other = await startStepFunctions({ port: 0, invokeFunction: async () => null, credentials: given });
    try {
      expect(other.credentials).toEqual(given);
      expect(other.credentials).not.toEqual(endpoint.credentials);
    } finally {
      await other.stop();
    }
  });

  it('refuses to start with an unusable key pair, naming the option', async () => {
    await expect(
      startStepFunctions({
        port: 0,
        invokeFunction: async () => null,
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      }),
    ).rejects.toMatchObject({ code: 'invalid_options', details: { option: 'credentials.accessKeyId' } });
  });
});

describe('the local Step Functions endpoint refuses', () => {
  it('a request without an Authorization header (MissingAuthenticationTokenException)', async () => {
    const answer = await post({});
    expect(answer.status).toBe(400);
    expect(answer.body.__type).toBe('MissingAuthenticationTokenException');
    expect(answer.body.message).toMatch(/sign it with AWS Signature Version 4/);
  });

  it('an unsigned SDK request (MissingAuthenticationTokenException)', async () => {
    const unsigned = client({ signer: { sign: async (request) => request } });
    const error = await failure(start(unsigned, 'unsigned'));
    expect(error.name).toBe('MissingAuthenticationTokenException');
    expect(error.$metadata?.httpStatusCode).toBe(400);
  });

  it('an access key it did not hand out (UnrecognizedClientException)', async () => {
    const error = await failure(start(client({ credentials: generateCredentials() }), 'other-key'));
    expect(error.name).toBe('UnrecognizedClientException');
    expect(error.$metadata?.httpStatusCode).toBe(400);
    expect(error.message).toMatch(/use the credentials the local stack handed out/);
  });

  it("the dummy 'local' credentials DynamoDB Local and the S3 server take", async () => {
    const error = await failure(
      client({ credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }).send(
        new ListStateMachinesCommand({}),
      ),
    );
    expect(error.name).toBe('UnrecognizedClientException');
  });

  it('the right access key with the wrong secret key (InvalidSignatureException)', async () => {
    const credentials = { accessKeyId: endpoint.credentials.accessKeyId, secretAccessKey: 'w'.repeat(40) };
    const error = await failure(start(client({ credentials }), 'wrong-secret'));
    expect(error.name).toBe('InvalidSignatureException');
    expect(error.message).toMatch(/signature we calculated does not match/);
  });

  it('a body changed after it was signed (InvalidSignatureException)', async () => {
    const tampering = client();
    tampering.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { body: string | Uint8Array };
        // Same length, so Content-Length still holds: only the signature can tell.
        request.body = Buffer.from(request.body).toString().replace('tampered', 'tamperex');
        return next(args);
      },
      { step: 'deserialize', name: 'tamperAfterSigning' },
    );
    const error = await failure(start(tampering, 'tampered'));
    expect(error.name).toBe('InvalidSignatureException');
  });

  it('an Authorization header that is not SigV4 (IncompleteSignatureException)', async () => {
    for (const authorization of ['Bearer abc', `AWS4-HMAC-SHA256 Credential=${endpoint.credentials.accessKeyId}`]) {
      const answer = await post({ authorization });
      expect(answer.status, authorization).toBe(400);
      expect(answer.body.__type, authorization).toBe('IncompleteSignatureException');
    }
  });

  it('a signature scoped to another region or service', async () => {
    const region = await failure(client({ region: 'eu-west-1' }).send(new ListStateMachinesCommand({})));
    expect(region.name).toBe('InvalidSignatureException');
    expect(region.message).toMatch(/use region us-east-1/);
  });

  it('and none of the refused calls started an execution', async () => {
    expect(await executions()).toEqual([]);
  });

  it('and logs each refusal by operation, address and AWS type, never the signature', () => {
    const refusals = logs.filter((l) => l.includes('refused'));
    expect(refusals.length).toBeGreaterThanOrEqual(8);
    expect(refusals).toContain('stepfunctions: refused StartExecution from 127.0.0.1: UnrecognizedClientException');
    expect(refusals).toContain('stepfunctions: refused StartExecution from 127.0.0.1: InvalidSignatureException');
    expect(refusals).toContain(
      'stepfunctions: refused StartExecution from 127.0.0.1: MissingAuthenticationTokenException',
    );
    for (const line of logs) {
      expect(line).not.toMatch(/Signature=|AWS4-HMAC-SHA256|[0-9a-f]{64}/);
      expect(line).not.toContain(endpoint.credentials.secretAccessKey);
    }
  });

  it('nothing when signed right: the same call with its credentials starts the execution', async () => {
    await start(client(), 'signed');
    expect(await executions()).toEqual(['signed']);
  });
});
