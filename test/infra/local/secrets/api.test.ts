/** The Secrets Manager API subset of the local store, through the real @aws-sdk/client-secrets-manager. */
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  InvalidParameterException,
  InvalidRequestException,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  RestoreSecretCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failure, type Running, startInTemp } from './helpers';

let store: Running;
let sm: SecretsManagerClient;
/** Every value any test stores: none may ever show up in a log line or an error message. */
const values: string[] = [];
const errorTexts: string[] = [];
const secretValue = (label: string) => {
  const value = `${label}-${Math.random().toString(36).slice(2)}-pässwörd`;
  values.push(value);
  return value;
};
const token = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const refused = async (promise: Promise<unknown>) => {
  const error = await failure(promise);
  errorTexts.push(`${error.name}: ${error.message}`);
  return error;
};

beforeAll(async () => {
  store = await startInTemp();
  sm = store.client();
});

afterAll(async () => {
  await store?.remove();
});

describe('CreateSecret, GetSecretValue, PutSecretValue', () => {
  it('store a string value and give it back, with the ARN and the version', async () => {
    const value = secretValue('bmc');
    const created = await sm.send(new CreateSecretCommand({ Name: 'encompass/local/bmc-1', SecretString: value }));
    expect(created.ARN).toMatch(/^arn:aws:secretsmanager:us-east-1:000000000000:secret:encompass\/local\/bmc-1-\w{6}$/);
    expect(created.Name).toBe('encompass/local/bmc-1');
    const got = await sm.send(new GetSecretValueCommand({ SecretId: 'encompass/local/bmc-1' }));
    expect(got).toMatchObject({
      ARN: created.ARN,
      Name: 'encompass/local/bmc-1',
      VersionId: created.VersionId,
      SecretString: value,
      VersionStages: ['AWSCURRENT'],
    });
    expect(got.CreatedDate).toBeInstanceOf(Date);
  });

  it('find a secret by its full ARN and by its ARN without the random suffix', async () => {
    const value = secretValue('arn');
    const { ARN } = await sm.send(new CreateSecretCommand({ Name: 'encompass/local/by-arn', SecretString: value }));
    expect((await sm.send(new GetSecretValueCommand({ SecretId: ARN }))).SecretString).toBe(value);
    const partial = ARN!.slice(0, -7);
    expect((await sm.send(new GetSecretValueCommand({ SecretId: partial }))).SecretString).toBe(value);
    const otherAccount = ARN!.replace('000000000000', '111111111111');
    expect(await refused(sm.send(new GetSecretValueCommand({ SecretId: otherAccount })))).toBeInstanceOf(
      ResourceNotFoundException,
    );
  });

  it('make the new value AWSCURRENT and keep the one before as AWSPREVIOUS', async () => {
    const [first, second, third] = [secretValue('v1'), secretValue('v2'), secretValue('v3')];
    const id = 'encompass/local/rotated';
    const v1 = await sm.send(new CreateSecretCommand({ Name: id, SecretString: first }));
    const v2 = await sm.send(new PutSecretValueCommand({ SecretId: id, SecretString: second }));
    expect(v2.VersionStages).toEqual(['AWSCURRENT']);
    expect((await sm.send(new GetSecretValueCommand({ SecretId: id }))).SecretString).toBe(second);
    const previous = await sm.send(new GetSecretValueCommand({ SecretId: id, VersionStage: 'AWSPREVIOUS' }));
    expect(previous).toMatchObject({ SecretString: first, VersionId: v1.VersionId, VersionStages: ['AWSPREVIOUS'] });
    const v3 = await sm.send(new PutSecretValueCommand({ SecretId: id, SecretString: third }));
    const described = await sm.send(new DescribeSecretCommand({ SecretId: id }));
    expect(described.VersionIdsToStages).toEqual({ [v2.VersionId!]: ['AWSPREVIOUS'], [v3.VersionId!]: ['AWSCURRENT'] });
    // A version without a label is deprecated, not gone: it can still be read by its id.
    const old = await sm.send(new GetSecretValueCommand({ SecretId: id, VersionId: v1.VersionId }));
    expect(old).toMatchObject({ SecretString: first, VersionStages: [] });
  });

  it('store bytes as SecretBinary and give the same bytes back', async () => {
    const bytes = new Uint8Array([0, 1, 2, 250, 255, 10, 13]);
    await sm.send(new CreateSecretCommand({ Name: 'encompass/local/binary', SecretBinary: bytes }));
    const got = await sm.send(new GetSecretValueCommand({ SecretId: 'encompass/local/binary' }));
    expect(got.SecretString).toBeUndefined();
    expect([...got.SecretBinary!]).toEqual([...bytes]);
  });

  it('create a secret without a value, which has no value to get until one is put', async () => {
    const created = await sm.send(
      new CreateSecretCommand({
        Name: 'encompass/local/empty',
        Description: 'filled in later',
        Tags: [{ Key: 'site', Value: 'local' }],
      }),
    );
    expect(created.VersionId).toBeUndefined();
    const error = await refused(sm.send(new GetSecretValueCommand({ SecretId: 'encompass/local/empty' })));
    expect(error).toBeInstanceOf(ResourceNotFoundException);
    expect(error.message).toMatch(/staging label AWSCURRENT/);
    const described = await sm.send(new DescribeSecretCommand({ SecretId: 'encompass/local/empty' }));
    expect(described).toMatchObject({ Description: 'filled in later', Tags: [{ Key: 'site', Value: 'local' }] });
    const value = secretValue('later');
    await sm.send(new PutSecretValueCommand({ SecretId: 'encompass/local/empty', SecretString: value }));
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'encompass/local/empty' }))).SecretString).toBe(value);
  });
});

describe('ClientRequestToken', () => {
  it('makes a retried CreateSecret answer as the first call did, creating nothing more', async () => {
    const value = secretValue('retry');
    const input = { Name: 'encompass/local/idem', SecretString: value, ClientRequestToken: token(1) };
    const first = await sm.send(new CreateSecretCommand(input));
    const again = await sm.send(new CreateSecretCommand(input));
    expect({ ...again, $metadata: undefined }).toEqual({ ...first, $metadata: undefined });
    expect(first.VersionId).toBe(token(1));
    const described = await sm.send(new DescribeSecretCommand({ SecretId: 'encompass/local/idem' }));
    expect(Object.keys(described.VersionIdsToStages!)).toEqual([token(1)]);
  });

  it('refuses a CreateSecret of an existing name with another token or another value', async () => {
    const value = secretValue('exists');
    await sm.send(
      new CreateSecretCommand({ Name: 'encompass/local/taken', SecretString: value, ClientRequestToken: token(2) }),
    );
    const otherToken = await refused(
      sm.send(
        new CreateSecretCommand({ Name: 'encompass/local/taken', SecretString: value, ClientRequestToken: token(3) }),
      ),
    );
    expect(otherToken).toBeInstanceOf(ResourceExistsException);
    expect(otherToken.message).toMatch(
      /secret encompass\/local\/taken already exists: store a new value with PutSecretValue/,
    );
    const otherValue = await refused(
      sm.send(
        new CreateSecretCommand({
          Name: 'encompass/local/taken',
          SecretString: secretValue('other'),
          ClientRequestToken: token(2),
        }),
      ),
    );
    expect(otherValue).toBeInstanceOf(ResourceExistsException);
  });

  it('makes a retried PutSecretValue a no-op, and refuses the same token for another value', async () => {
    const id = 'encompass/local/put-idem';
    const [first, second] = [secretValue('p1'), secretValue('p2')];
    await sm.send(new CreateSecretCommand({ Name: id, SecretString: first }));
    const put = { SecretId: id, SecretString: second, ClientRequestToken: token(4) };
    const once = await sm.send(new PutSecretValueCommand(put));
    const twice = await sm.send(new PutSecretValueCommand(put));
    expect(twice.VersionId).toBe(once.VersionId);
    expect(twice.VersionStages).toEqual(['AWSCURRENT']);
    // The retry did not push the first value out of AWSPREVIOUS.
    const previous = await sm.send(new GetSecretValueCommand({ SecretId: id, VersionStage: 'AWSPREVIOUS' }));
    expect(previous.SecretString).toBe(first);
    const changed = await refused(sm.send(new PutSecretValueCommand({ ...put, SecretString: secretValue('p3') })));
    expect(changed).toBeInstanceOf(ResourceExistsException);
    expect(changed.message).toMatch(/use a new ClientRequestToken/);
    expect((await sm.send(new GetSecretValueCommand({ SecretId: id }))).SecretString).toBe(second);
  });

  it('must be 32-64 characters long', async () => {
    const error = await refused(
      sm.send(
        new CreateSecretCommand({
          Name: 'encompass/local/short-token',
          SecretString: 'x',
          ClientRequestToken: 'short',
        }),
      ),
    );
    expect(error).toBeInstanceOf(InvalidParameterException);
    expect(error.message).toMatch(/ClientRequestToken must be 32-64 characters/);
  });
});

describe('DeleteSecret and RestoreSecret', () => {
  it('with ForceDeleteWithoutRecovery remove the secret at once, so its name is free again', async () => {
    const id = 'encompass/local/gone';
    const { ARN } = await sm.send(new CreateSecretCommand({ Name: id, SecretString: secretValue('gone') }));
    const deleted = await sm.send(new DeleteSecretCommand({ SecretId: id, ForceDeleteWithoutRecovery: true }));
    expect(deleted).toMatchObject({ ARN, Name: id });
    expect(Math.abs(deleted.DeletionDate!.getTime() - Date.now())).toBeLessThan(60_000);
    expect(await refused(sm.send(new GetSecretValueCommand({ SecretId: id })))).toBeInstanceOf(
      ResourceNotFoundException,
    );
    expect(await refused(sm.send(new DescribeSecretCommand({ SecretId: id })))).toBeInstanceOf(
      ResourceNotFoundException,
    );
    const again = await sm.send(new CreateSecretCommand({ Name: id, SecretString: secretValue('again') }));
    expect(again.ARN).not.toBe(ARN);
    // The old ARN does not find the new secret of the same name.
    expect(await refused(sm.send(new GetSecretValueCommand({ SecretId: ARN })))).toBeInstanceOf(
      ResourceNotFoundException,
    );
  });

  it('with a recovery window mark the secret, which refuses reads and writes until it is restored', async () => {
    const id = 'encompass/local/window';
    const value = secretValue('window');
    await sm.send(new CreateSecretCommand({ Name: id, SecretString: value }));
    const deleted = await sm.send(new DeleteSecretCommand({ SecretId: id, RecoveryWindowInDays: 7 }));
    const days = (deleted.DeletionDate!.getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(6.9);
    expect(days).toBeLessThan(7.1);
    const read = await refused(sm.send(new GetSecretValueCommand({ SecretId: id })));
    expect(read).toBeInstanceOf(InvalidRequestException);
    expect(read.message).toMatch(/marked for deletion: RestoreSecret brings it back/);
    expect(await refused(sm.send(new PutSecretValueCommand({ SecretId: id, SecretString: 'x' })))).toBeInstanceOf(
      InvalidRequestException,
    );
    expect(await refused(sm.send(new CreateSecretCommand({ Name: id, SecretString: 'x' })))).toBeInstanceOf(
      InvalidRequestException,
    );
    expect(await refused(sm.send(new DeleteSecretCommand({ SecretId: id })))).toBeInstanceOf(InvalidRequestException);
    expect((await sm.send(new DescribeSecretCommand({ SecretId: id }))).DeletedDate).toBeInstanceOf(Date);
    await sm.send(new RestoreSecretCommand({ SecretId: id }));
    expect((await sm.send(new GetSecretValueCommand({ SecretId: id }))).SecretString).toBe(value);
    expect((await sm.send(new DescribeSecretCommand({ SecretId: id }))).DeletedDate).toBeUndefined();
  });

  it('force-delete a secret already marked for deletion', async () => {
    const id = 'encompass/local/marked-then-forced';
    await sm.send(new CreateSecretCommand({ Name: id, SecretString: secretValue('marked') }));
    await sm.send(new DeleteSecretCommand({ SecretId: id }));
    await sm.send(new DeleteSecretCommand({ SecretId: id, ForceDeleteWithoutRecovery: true }));
    expect(await refused(sm.send(new DescribeSecretCommand({ SecretId: id })))).toBeInstanceOf(
      ResourceNotFoundException,
    );
  });

  it('refuse a recovery window outside 7-30 days, or one given with ForceDeleteWithoutRecovery', async () => {
    const id = 'encompass/local/keep';
    await sm.send(new CreateSecretCommand({ Name: id, SecretString: secretValue('keep') }));
    const both = await refused(
      sm.send(new DeleteSecretCommand({ SecretId: id, RecoveryWindowInDays: 7, ForceDeleteWithoutRecovery: true })),
    );
    expect(both).toBeInstanceOf(InvalidParameterException);
    expect(both.message).toMatch(/can't be used together with RecoveryWindowInDays/);
    const short = await refused(sm.send(new DeleteSecretCommand({ SecretId: id, RecoveryWindowInDays: 3 })));
    expect(short).toBeInstanceOf(InvalidParameterException);
    expect(await sm.send(new DescribeSecretCommand({ SecretId: id }))).not.toHaveProperty('DeletedDate');
  });

  it('of a secret that does not exist answer ResourceNotFoundException', async () => {
    const error = await refused(
      sm.send(new DeleteSecretCommand({ SecretId: 'encompass/local/never', ForceDeleteWithoutRecovery: true })),
    );
    expect(error).toBeInstanceOf(ResourceNotFoundException);
    expect(error.$metadata?.httpStatusCode).toBe(400);
    expect(await refused(sm.send(new RestoreSecretCommand({ SecretId: 'encompass/local/never' })))).toBeInstanceOf(
      ResourceNotFoundException,
    );
  });
});

describe('parameters', () => {
  it('are checked, and a wrong one is an InvalidParameterException naming it', async () => {
    const cases: [string, Promise<unknown>, RegExp][] = [
      [
        'bad name',
        sm.send(new CreateSecretCommand({ Name: 'has space', SecretString: 'x' })),
        /Name is not a valid secret name/,
      ],
      ['no name', sm.send(new CreateSecretCommand({ Name: '', SecretString: 'x' })), /Name is required/],
      [
        'both values',
        sm.send(
          new CreateSecretCommand({
            Name: 'encompass/local/both',
            SecretString: 'x',
            SecretBinary: new Uint8Array([1]),
          }),
        ),
        /SecretString and SecretBinary can't both be given/,
      ],
      [
        'too long',
        sm.send(new CreateSecretCommand({ Name: 'encompass/local/long', SecretString: 'x'.repeat(65_537) })),
        /SecretString is longer than 65536 bytes/,
      ],
      [
        'no value',
        sm.send(new PutSecretValueCommand({ SecretId: 'encompass/local/bmc-1' })),
        /SecretString or SecretBinary is required/,
      ],
      [
        'KMS key',
        sm.send(new CreateSecretCommand({ Name: 'encompass/local/kms', SecretString: 'x', KmsKeyId: 'alias/mine' })),
        /KmsKeyId is not supported by the local secret store/,
      ],
      [
        'no id',
        sm.send(new GetSecretValueCommand({ SecretId: undefined as unknown as string })),
        /SecretId is required/,
      ],
    ];
    for (const [label, promise, message] of cases) {
      const error = await refused(promise);
      expect(error, label).toBeInstanceOf(InvalidParameterException);
      expect(error.message, label).toMatch(message);
    }
    expect(await refused(sm.send(new DescribeSecretCommand({ SecretId: 'encompass/local/both' })))).toBeInstanceOf(
      ResourceNotFoundException,
    );
  });

  it('of a version that does not exist answer ResourceNotFoundException naming the version', async () => {
    const error = await refused(
      sm.send(new GetSecretValueCommand({ SecretId: 'encompass/local/bmc-1', VersionId: token(99) })),
    );
    expect(error).toBeInstanceOf(ResourceNotFoundException);
    expect(error.message).toContain(`VersionId ${token(99)}`);
  });
});

describe('secret values', () => {
  it('never appear in the log or in an error message', async () => {
    expect(values.length).toBeGreaterThan(10);
    expect(errorTexts.length).toBeGreaterThan(10);
    expect(store.logs.some((l) => l.includes('CreateSecret encompass/local/bmc-1'))).toBe(true);
    for (const value of values) {
      for (const line of store.logs) expect(line).not.toContain(value);
      for (const text of errorTexts) expect(text).not.toContain(value);
    }
  });
});
