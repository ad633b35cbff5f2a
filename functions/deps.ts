/**
 * Everything a request needs, built from the runtime's environment. Built once per environment
 * object (a Worker's `env`, Lambda's or Node's `process.env`) so SDK clients and their connection
 * pools are reused between requests of one isolate or container.
 */
import { type Config, configFromEnv, type Env } from './config';
import { Endings } from './operations/wait';
import { Audit } from './store/audit';
import { Catalog, s3Client } from './store/catalog';
import { Customizations } from './store/customizations';
import { Db } from './store/db';
import { Discoveries } from './store/discoveries';
import { Masters } from './store/masters';
import { Operations } from './store/operations';
import { Presigner } from './store/presigner';
import type { Clone, Deployment, Machine, Site } from './store/records';
import { Repositories } from './store/repositories';
import { RepositoryChecks } from './store/repository-checks';
import { Resources } from './store/resources';
import { Secrets, secretsClient } from './store/secrets';
import { Tokens } from './store/tokens';
import { sfnClient, Workflows } from './workflows/sfn';

export interface Deps {
  config: Config;
  db: Db;
  sites: Resources<Site>;
  repositories: Repositories;
  machines: Resources<Machine>;
  masters: Masters;
  clones: Resources<Clone>;
  deployments: Resources<Deployment>;
  operations: Operations;
  checks: RepositoryChecks;
  discoveries: Discoveries;
  audit: Audit;
  tokens: Tokens;
  catalog: Catalog;
  customizations: Customizations;
  presigner: Presigner;
  /** Machine credentials, by reference: written and deleted here, never read. */
  secrets: Secrets;
  workflows: Workflows;
  /** Operations that ended in this isolate, for the reads that wait for them (operations/wait.ts). */
  endings: Endings;
  now: () => string;
}

export const clonesOf = (masterId: string) => `clones-of#${masterId}`;
export const versionsOf = (masterId: string) => `versions-of#${masterId}`;

export function buildDeps(config: Config): Deps {
  const db = new Db(config);
  const s3 = s3Client(config);
  const catalog = new Catalog(s3, config.bucket);
  const presigner = new Presigner(s3, config.bucket);
  return {
    config,
    db,
    sites: new Resources<Site>(db, 'site'),
    repositories: new Repositories(db, 'repository'),
    machines: new Resources<Machine>(db, 'machine'),
    masters: new Masters(db, 'master', (m) => (m.parent ? versionsOf(m.parent) : undefined)),
    clones: new Resources<Clone>(db, 'clone', (c) => clonesOf(c.master)),
    deployments: new Resources<Deployment>(db, 'deployment'),
    operations: new Operations(db),
    checks: new RepositoryChecks(db),
    discoveries: new Discoveries(db),
    audit: new Audit(db),
    tokens: new Tokens(db, config.tokenCacheMs),
    catalog,
    customizations: new Customizations(catalog, presigner),
    presigner,
    secrets: new Secrets(secretsClient(config), config.secrets.prefix),
    workflows: new Workflows(sfnClient(config), config),
    endings: new Endings(),
    now: () => new Date().toISOString(),
  };
}

const cache = new WeakMap<object, Deps>();

export function depsFor(env: Env): Deps {
  let deps = cache.get(env);
  if (!deps) {
    deps = buildDeps(configFromEnv(env));
    cache.set(env, deps);
  }
  return deps;
}
