/**
 * Who may talk to the local secret store: only a client on this host signing with the credentials the store
 * was started with. Every refusal is checked to have read nothing and to say what to do.
 */
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { CreateSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCredentials, verifySignature } from '../../../../infra/local/sigv4';
import { failure, type Running, startInTemp } from './helpers';

let store: Running;
const VALUE = 'only-for-the-right-key-41';
const NAME = 'encompass/local/guarded';

beforeAll(async () => {
  store = await startInTemp();
  await store.client().send(new CreateSecretCommand({ Name: NAME, SecretString: VALUE }));
});

afterAll(async () => {
  await store?.remove();
});

const read = (overrides: Parameters<Running['client']>[0]) =>
  failure(store.client(overrides).send(new GetSecretValueCommand({ SecretId: NAME })));

/** A raw POST of a JSON 1.1 request, with whatever headers a test gives. */
async function post(headers: Record<string, string>, body = JSON.stringify({ SecretId: NAME })) {
  const response = await fetch(store.secrets.endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'secretsmanager.GetSecretValue',
      ...headers,
    },
    body,
  });
  return { status: response.status, body: (await response.json()) as { __type: string; message: string } };
}

describe('the local secret store refuses', () => {
  it('the right access key with the wrong secret key (InvalidSignatureException)', async () => {
    const error = await read({
      credentials: { accessKeyId: store.secrets.credentials.accessKeyId, secretAccessKey: 'w'.repeat(40) },
    });
    expect(error.name).toBe('InvalidSignatureException');
    expect(error.message).toMatch(/signature we calculated does not match/);
    expect(error.message).not.toContain(VALUE);
  });

  it('an access key it did not hand out (UnrecognizedClientException)', async () => {
    const error = await read({ credentials: generateCredentials() });
    expect(error.name).toBe('UnrecognizedClientException');
    expect(error.$metadata?.httpStatusCode).toBe(400);
    expect(error.message).toMatch(/use the credentials the local stack handed out/);
  });

  it("the dummy 'local' credentials the other local endpoints take", async () => {
    const error = await read({ credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    expect(error.name).toBe('UnrecognizedClientException');
  });

  it('a request without an Authorization header (MissingAuthenticationTokenException)', async () => {
    const answer = await post({});
    expect(answer.status).toBe(400);
    expect(answer.body.__type).toBe('MissingAuthenticationTokenException');
    expect(JSON.stringify(answer.body)).not.toContain(VALUE);
  });

  it('an Authorization header that is not SigV4 (IncompleteSignatureException)', async () => {
    for (const authorization of [
      'Bearer abc',
      `AWS4-HMAC-SHA256 Credential=${store.secrets.credentials.accessKeyId}`,
    ]) {
      const answer = await post({ authorization });
      expect(answer.body.__type, authorization).toBe('IncompleteSignatureException');
    }
  });

  it('a body changed after it was signed', async () => {
    const client = store.client();
    client.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { body: string };
        // Same length, so Content-Length still holds: only the signature can tell.
        request.body = request.body.replace('guarded', 'guardex');
        return next(args);
      },
      { step: 'deserialize', name: 'tamperAfterSigning' },
    );
    const error = await failure(client.send(new GetSecretValueCommand({ SecretId: NAME })));
    expect(error.name).toBe('InvalidSignatureException');
  });

  it('a signature more than five minutes old', async () => {
    const error = await read({ systemClockOffset: -10 * 60 * 1000 });
    expect(error.name).toBe('InvalidSignatureException');
    expect(error.message).toMatch(/more than 5 minutes/);
  });

  it('a signature scoped to another region', async () => {
    const error = await read({ region: 'eu-west-1' });
    expect(error.name).toBe('InvalidSignatureException');
    expect(error.message).toMatch(/use region us-east-1/);
  });

  it('and logs each refusal by operation and client address, never the value', () => {
    const refusals = store.logs.filter((l) => l.includes('refused'));
    expect(refusals.length).toBeGreaterThanOrEqual(6);
    expect(refusals).toContain('secrets: refused GetSecretValue from 127.0.0.1: UnrecognizedClientException');
    for (const line of store.logs) expect(line).not.toContain(VALUE);
  });

  it('nothing when signed right: the same request with its credentials reads the value', async () => {
    const got = await store.client().send(new GetSecretValueCommand({ SecretId: NAME }));
    expect(got.SecretString).toBe(VALUE);
  });
});

describe('the local secret store listens', () => {
  const port = () => Number(new URL(store.secrets.endpoint).port);
  const tryConnect = (host: string) =>
    new Promise<string>((resolve) => {
      const socket = connect({ host, port: port() });
      socket.setTimeout(2000);
      socket.once('connect', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.once('timeout', () => {
        socket.destroy();
        resolve('timeout');
      });
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    });

  it('on 127.0.0.1', async () => {
    expect(store.secrets.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await tryConnect('127.0.0.1')).toBe('connected');
  });

  it('on no other address: not another loopback address, not IPv6, not the host’s interfaces', async () => {
    const others = Object.values(networkInterfaces())
      .flat()
      .filter((i) => i && !i.internal)
      .map((i) => i!.address);
    for (const host of ['127.0.0.2', '::1', ...others]) expect(await tryConnect(host), host).not.toBe('connected');
  });
});

describe('the SigV4 check', () => {
  // Requests and signatures from AWS's published Signature Version 4 test suite (get-vanilla and its query variants).
  const suite = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
  const expected = {
    credentials: suite,
    region: 'us-east-1',
    service: 'service',
    now: new Date('2015-08-30T12:36:00Z'),
  };
  const request = (url: string, signature: string) => ({
    method: 'GET',
    url,
    body: Buffer.alloc(0),
    rawHeaders: [
      'Host',
      'example.amazonaws.com',
      'X-Amz-Date',
      '20150830T123600Z',
      'Authorization',
      `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=${signature}`,
    ],
  });

  it.each([
    ['/', '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31'],
    ['/?Param1=value1', 'a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb'],
    ['/?Param2=value2&Param1=value1', 'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500'],
  ])('accepts the test suite request GET %s with its published signature', (url, signature) => {
    expect(() => verifySignature(request(url, signature), expected)).not.toThrow();
  });

  it('refuses the same request with one digit of the signature changed', () => {
    const wrong = '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf30';
    expect(() => verifySignature(request('/', wrong), expected)).toThrow(/does not match/);
  });
});
