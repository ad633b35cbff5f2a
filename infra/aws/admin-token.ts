/**
 * `npx tsx infra/aws/admin-token.ts --table <TableName> [--region <region>] [--label <text>]`:
 * makes the first admin token of a deployment (every later token is made through the API). It
 * writes the token's hash straight into the table with your own AWS credentials, which need
 * dynamodb:PutItem on it; the token itself is printed once and stored nowhere.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { configFromEnv, type Env } from '../../functions/config';
import { buildDeps } from '../../functions/deps';
import { UsageError } from './errors';

export interface AdminTokenOptions {
  table: string;
  region?: string;
  label?: string;
  /** Extra settings of the functions' config (endpoints of a local stack, in tests). */
  env?: Env;
}

export async function createAdminToken(o: AdminTokenOptions): Promise<{ token: string; id: string }> {
  const region = o.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (!region) throw new UsageError('no AWS region: pass --region or set AWS_REGION');
  const deps = buildDeps(configFromEnv({ ...o.env, ENCOMPASS_TABLE: o.table, AWS_REGION: region }));
  const { secret, record } = await deps.tokens.create(
    { role: 'admin', label: o.label ?? 'first admin', createdBy: 'infra/aws/admin-token' },
    new Date().toISOString(),
  );
  return { token: secret, id: record.id };
}

async function main(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: { table: { type: 'string' }, region: { type: 'string' }, label: { type: 'string' } },
  });
  if (!values.table) throw new UsageError('no table: pass --table <TableName> (the stack output TableName)');
  const { token, id } = await createAdminToken({ table: values.table, region: values.region, label: values.label });
  process.stdout.write(`admin token ${id} (shown once, keep it safe):\n${token}\n`);
}

const invoked = process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
if (invoked) {
  main(process.argv.slice(2)).catch((e: Error) => {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  });
}
