/**
 * Machine credentials in Secrets Manager, named `encompass/<site>/<id>` (statemachines/secrets.ts). The
 * functions write them and never read them (the API takes credentials but never shows them); each site's
 * agent reads its own site's and nothing else. The stack creates no secret: the functions make them at
 * runtime, encrypted with the account's `aws/secretsmanager` key, which needs no KMS grant for either role.
 */
import { ArnFormat, type Stack } from 'aws-cdk-lib';

/**
 * Store a credential (create, new value), check it exists (describe), delete it. CreateSecret with `Tags`
 * would also need secretsmanager:TagResource: grant it here if the functions start tagging.
 */
export const SECRET_WRITE_ACTIONS = [
  'secretsmanager:CreateSecret',
  'secretsmanager:PutSecretValue',
  'secretsmanager:DescribeSecret',
  'secretsmanager:DeleteSecret',
];

/** What an agent does with a credential: resolve its reference to the value, in memory, when it acts. */
export const SECRET_READ_ACTIONS = ['secretsmanager:GetSecretValue'];

/** The ARN pattern of the secrets whose names start with `namePrefix` (AWS appends `-` and 6 random characters). */
export const secretsArn = (stack: Stack, namePrefix: string) =>
  stack.formatArn({
    service: 'secretsmanager',
    resource: 'secret',
    resourceName: `${namePrefix}*`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
