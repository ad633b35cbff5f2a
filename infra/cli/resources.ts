/** The API's resources as the command line shows them: a row each, with its table columns and actions. */
import type { Json } from './client';
import { at } from './client';
import type { Flag, Resource } from './commands';
import { age, bytes, type Column } from './output';

const id: Column = { head: 'ID', get: 'id' };
const name: Column = { head: 'NAME', get: 'name' };
const status: Column = { head: 'STATUS', get: 'status' };
const created: Column = { head: 'AGE', get: (r) => age(r.createdAt) };
const ref = (r: unknown) => {
  const x = r as Json | undefined;
  return x ? `${x.kind ?? ''}/${x.name ?? x.id ?? ''}` : undefined;
};

export const operationColumns: Column[] = [
  id,
  { head: 'KIND', get: 'kind' },
  status,
  { head: 'PROGRESS', get: (r) => `${Math.round((r.progress ?? 0) * 100)}%` },
  { head: 'STEP', get: (r) => r.steps?.at(-1)?.name },
  { head: 'RESOURCE', get: (r) => ref(r.resource) },
  created,
];

export const auditColumns: Column[] = [
  { head: 'AT', get: 'at' },
  { head: 'ACTOR', get: 'actor' },
  { head: 'ACTION', get: 'action' },
  { head: 'RESOURCE', get: (r) => ref(r.resource) },
  { head: 'OUTCOME', get: 'outcome' },
  { head: 'OPERATION', get: 'operation' },
];

const site: Flag = { flags: '--site <site>', doc: 'the site (id or name)', required: true };
const dryRun: Flag = { flags: '--dry-run', doc: 'plan only: change nothing', kind: 'bool', field: 'dryRun' };
const vars: Flag = {
  flags: '--var <key=value>',
  doc: 'a customization variable (e.g. hostname=web1); repeatable',
  kind: 'vars',
  field: 'variables',
};
const post = (path: string) => () => path;

export const resources: Resource[] = [
  {
    name: 'masters',
    summary: 'Master images: import, customize, list',
    path: '/v1/masters',
    columns: [
      name,
      { head: 'VERSION', get: 'version' },
      status,
      { head: 'FORMAT', get: 'format' },
      { head: 'SIZE', get: (r) => bytes(r.sizeBytes) },
      { head: 'CLONES', get: (r) => (Array.isArray(r.clones) ? r.clones.length : r.clones) },
      id,
    ],
    del: 'Delete a master that has no live clones or child versions',
    actions: [
      {
        name: 'import',
        summary: 'Import an image that sits in a repository as a master',
        args: ['<name>'],
        method: 'POST',
        path: post('/v1/masters'),
        fromArgs: ([n]) => ({ name: n }),
        flags: [
          { flags: '--repository <repository>', doc: 'the repository it is in (id or name)', required: true },
          { flags: '--path <path>', doc: 'its path inside the repository', required: true },
          { flags: '--format <format>', doc: 'raw or qcow2 (default: detected)' },
          {
            flags: '--item <json>',
            doc: 'a customization item, e.g. \'{"type":"file","path":"/etc/hostname","content":"${hostname}\\n"}\'; repeatable',
            kind: 'items',
            field: 'customization',
          },
        ],
      },
      {
        name: 'patch',
        summary: 'Change profile, requirements or customization items (a JSON merge patch)',
        args: ['<id>'],
        method: 'PATCH',
        path: ([i]) => at('/v1/masters', i!),
        flags: [
          { flags: '--profile <json>', doc: 'the profile (merged)', kind: 'json' },
          { flags: '--requirements <json>', doc: 'the machine requirements (merged)', kind: 'json' },
          {
            flags: '--item <json>',
            doc: 'a customization item; repeatable (replaces the list)',
            kind: 'items',
            field: 'customization',
          },
        ],
      },
    ],
  },
  {
    name: 'clones',
    summary: 'Clones of masters and their lifecycle (assign, attach, activate, …)',
    path: '/v1/clones',
    columns: [
      name,
      { head: 'MASTER', get: 'master' },
      { head: 'METASTATE', get: 'metastate' },
      { head: 'BINDING', get: 'binding' },
      status,
      { head: 'MACHINE', get: 'machine' },
      {
        head: 'APPLIED',
        get: (r) => (r.customization ? `${r.customization.applied}/${r.customization.total}` : undefined),
      },
      id,
    ],
    del: 'Destroy a clone (the destroy event)',
    list: [
      {
        flags: '--status <status>',
        doc: 'only these: live (the default), creating, ready, captured, destroyed or all',
      },
      { flags: '--binding <binding>', doc: 'only these: unassigned, assigned, attached or active' },
      { flags: '--master <master>', doc: 'only clones of this master (name, name@N or id)' },
      { flags: '--machine <machine>', doc: 'only the clones assigned to this machine' },
      { flags: '--site <site>', doc: 'only the clones in this site\u2019s repositories' },
    ],
    actions: [
      {
        name: 'create',
        summary: 'Clone a master',
        args: ['<master>', '<name>'],
        method: 'POST',
        path: post('/v1/clones'),
        fromArgs: ([m, n]) => ({ master: m, name: n }),
        flags: [
          { flags: '--repository <repository>', doc: 'where the clone goes (default: the master\u2019s repository)' },
          { flags: '--method <method>', doc: 'how it is copied (e.g. sparse, full, reflink)' },
        ],
      },
    ],
  },
  {
    name: 'machines',
    summary: 'Physical and virtual machines',
    path: '/v1/machines',
    columns: [
      name,
      { head: 'KIND', get: 'kind' },
      { head: 'SITE', get: 'site' },
      { head: 'STATE', get: 'state' },
      { head: 'CPUS', get: 'cpus' },
      { head: 'MEMORY', get: (r) => (r.memoryMiB ? `${r.memoryMiB} MiB` : undefined) },
      { head: 'TAGS', get: 'tags' },
      { head: 'CLONE', get: 'clone' },
      id,
    ],
    del: 'Forget a machine that carries no clone',
    list: [
      { flags: '--site <site>', doc: 'only this site\u2019s' },
      { flags: '--kind <kind>', doc: 'only machines of this kind (sim, qemu, libvirt, ipmi, redfish, …)' },
      { flags: '--tag <tag>', doc: 'only machines that carry this tag' },
      { flags: '--state <state>', doc: 'only these: ready, reserved, quarantined, discovered or missing' },
    ],
    actions: [
      {
        name: 'create',
        summary: 'Register a machine',
        args: ['<name>'],
        method: 'POST',
        path: post('/v1/machines'),
        fromArgs: ([n]) => ({ name: n }),
        flags: [
          site,
          { flags: '--kind <kind>', doc: 'its driver: sim, ipmi, redfish, libvirt, …', required: true },
          { flags: '--arch <arch>', doc: 'x86_64 (default), aarch64' },
          { flags: '--cpus <n>', doc: 'CPUs', kind: 'int' },
          { flags: '--memory-mib <n>', doc: 'memory in MiB', kind: 'int', field: 'memoryMiB' },
          { flags: '--tag <tag>', doc: 'a tag; repeatable', kind: 'list', field: 'tags' },
          { flags: '--host <host>', doc: 'the agent host that reaches it' },
          { flags: '--identity <json>', doc: 'how it is found (BMC address, MAC, …)', kind: 'json' },
          { flags: '--settings <json>', doc: 'driver settings', kind: 'json' },
        ],
      },
      {
        name: 'patch',
        summary: 'Change a machine (a JSON merge patch of its fields)',
        args: ['<id>'],
        method: 'PATCH',
        path: ([i]) => at('/v1/machines', i!),
        flags: [
          { flags: '--name <name>', doc: 'a new name' },
          { flags: '--cpus <n>', doc: 'CPUs', kind: 'int' },
          { flags: '--memory-mib <n>', doc: 'memory in MiB', kind: 'int', field: 'memoryMiB' },
        ],
      },
      {
        name: 'release',
        summary: 'Release a quarantined machine: it becomes ready for use again',
        args: ['<id>'],
        method: 'POST',
        path: ([i]) => at('/v1/machines', i!, 'release'),
      },
      {
        name: 'health-check',
        summary: 'Check a machine: a console marker, a TCP connect or an HTTP status',
        args: ['<id>'],
        method: 'POST',
        path: ([i]) => at('/v1/machines', i!, 'health-check'),
        flags: [
          { flags: '--kind <kind>', doc: 'console, tcp or http', required: true },
          { flags: '--marker <text>', doc: 'console: the text to wait for' },
          { flags: '--port <n>', doc: 'tcp/http: the port', kind: 'int' },
          { flags: '--timeout-seconds <n>', doc: 'give up after this long', kind: 'int' },
        ],
      },
      {
        name: 'adopt',
        summary: 'Adopt a machine a discovery found: it becomes ready',
        args: ['<id>'],
        method: 'POST',
        path: ([i]) => at('/v1/machines', i!, 'adopt'),
        flags: [
          { flags: '--name <name>', doc: 'a name for it' },
          { flags: '--tag <tag>', doc: 'a tag; repeatable', kind: 'list', field: 'tags' },
        ],
      },
    ],
  },
  {
    name: 'repositories',
    aliases: ['repos'],
    summary: 'Storage repositories (NAS directories, SAN targets) of a site',
    path: '/v1/repositories',
    columns: [
      name,
      { head: 'SITE', get: 'site' },
      { head: 'KIND', get: 'kind' },
      { head: 'PATH', get: 'path' },
      status,
      id,
    ],
    del: 'Delete an empty repository',
    actions: [
      {
        name: 'create',
        summary: "Create a repository; answers once the site's agent checked its path (status ready or unreachable)",
        args: ['<name>'],
        method: 'POST',
        path: post('/v1/repositories?wait=20'),
        fromArgs: ([n]) => ({ name: n }),
        flags: [
          site,
          { flags: '--kind <kind>', doc: 'file, iscsi, …', required: true },
          { flags: '--path <path>', doc: 'its root on the agent host', required: true },
          { flags: '--description <text>', doc: 'what it is for' },
          { flags: '--host <host>', doc: 'the agent host it is on' },
          { flags: '--settings <json>', doc: 'driver settings', kind: 'json' },
        ],
      },
      {
        name: 'check',
        summary:
          'Check the repository: its path (its status), then against the records (finds orphans and missing images)',
        args: ['<id>'],
        method: 'POST',
        path: ([i]) => at('/v1/repositories', i!, 'check'),
      },
      {
        name: 'orphans',
        summary: 'What the last check found: orphans, missing images, removed temp files',
        args: ['<id>'],
        method: 'GET',
        path: ([i]) => at('/v1/repositories', i!, 'orphans'),
      },
      {
        name: 'remove-orphan',
        summary: 'Remove an orphan (its path in the repository) from the storage',
        args: ['<id>', '<path>'],
        method: 'DELETE',
        path: ([i, n]) => at('/v1/repositories', i!, 'orphans', n!),
      },
      {
        name: 'adopt-orphan',
        summary: 'Adopt an orphan as a master where it lies',
        args: ['<id>', '<path>', '<name>'],
        method: 'POST',
        path: ([i, n]) => at('/v1/repositories', i!, 'orphans', n!, 'adopt'),
        fromArgs: ([, , n]) => ({ name: n }),
        flags: [{ flags: '--format <format>', doc: 'raw or qcow2' }],
      },
    ],
  },
  {
    name: 'sites',
    summary: 'Sites, each with its agents, repositories and machines',
    path: '/v1/sites',
    columns: [
      name,
      { head: 'DESCRIPTION', get: 'description' },
      { head: 'AGENTS', get: (r) => Object.keys(r.agents ?? {}) },
      id,
    ],
    del: 'Delete a site that has no repositories or machines',
    actions: [
      {
        name: 'create',
        summary: 'Create a site and its workflows',
        args: ['<name>'],
        method: 'POST',
        path: post('/v1/sites'),
        fromArgs: ([n]) => ({ name: n }),
        flags: [{ flags: '--description <text>', doc: 'what it is' }],
      },
      {
        name: 'forget-agent',
        summary: 'Forget the agent of a host taken out of service, with its lane',
        args: ['<site>', '<host>'],
        method: 'DELETE',
        path: ([s, h]) => at('/v1/sites', s!, 'agents', h!),
      },
    ],
  },
  {
    name: 'tokens',
    summary: 'API tokens (admin)',
    path: '/v1/tokens',
    columns: [
      id,
      { head: 'ROLE', get: 'role' },
      { head: 'SITE', get: 'site' },
      { head: 'LABEL', get: 'label' },
      { head: 'CREATED BY', get: 'createdBy' },
      created,
    ],
    list: [],
    show: false,
    del: 'Revoke a token',
    actions: [
      {
        name: 'create',
        summary: 'Create a token; its secret is shown once',
        method: 'POST',
        path: post('/v1/tokens'),
        flags: [
          { flags: '--role <role>', doc: 'viewer, operator, admin or agent', required: true },
          { flags: '--site <site>', doc: 'the site of an agent token' },
          { flags: '--label <label>', doc: 'what it is for' },
        ],
      },
    ],
  },
  {
    name: 'deployments',
    summary: 'Deploy a master onto many machines, and tear deployments down',
    path: '/v1/deployments',
    columns: [
      id,
      name,
      { head: 'MASTER', get: 'master' },
      status,
      { head: 'MEMBERS', get: (r) => r.members?.length },
      created,
    ],
    del: 'Tear a deployment down (each member: deactivate, detach, unassign, destroy)',
    actions: [
      {
        name: 'create',
        summary: 'Deploy a master: a clone per machine, customized, attached and powered on',
        args: ['<master>'],
        method: 'POST',
        path: post('/v1/deployments'),
        fromArgs: ([m]) => ({ master: m }),
        flags: [
          { flags: '--machine <machine>', doc: 'a machine to deploy to; repeatable', kind: 'list', field: 'machines' },
          { flags: '--count <n>', doc: 'this many machines, picked by --selector', kind: 'int' },
          { flags: '--selector <json>', doc: 'which machines may be picked, e.g. \'{"tags":["web"]}\'', kind: 'json' },
          { flags: '--name <name>', doc: 'the deployment\u2019s name' },
          vars,
          { flags: '--fanout <n>', doc: 'members at once', kind: 'int' },
          { flags: '--no-activate', doc: 'leave the machines powered off' },
          dryRun,
        ],
      },
    ],
  },
  {
    name: 'migrations',
    summary: 'Move a clone to another machine or repository',
    path: '/v1/migrations',
    columns: [id, status],
    list: false,
    actions: [
      {
        name: 'create',
        summary: 'Move a clone to another machine, and/or its image to another repository of the site',
        args: ['<clone>'],
        method: 'POST',
        path: post('/v1/migrations'),
        fromArgs: ([c]) => ({ clone: c }),
        flags: [
          { flags: '--to-machine <machine>', doc: 'the machine it moves to' },
          { flags: '--repository <repository>', doc: 'the repository its image moves to', field: 'storage.repository' },
          vars,
        ],
      },
    ],
  },
  {
    name: 'reassignments',
    summary: 'Switch a machine to another clone',
    path: '/v1/reassignments',
    columns: [id, status],
    list: false,
    actions: [
      {
        name: 'create',
        summary: 'Switch a machine to another clone (an existing one, or one made now from a master)',
        args: ['<machine>'],
        method: 'POST',
        path: post('/v1/reassignments'),
        fromArgs: ([m]) => ({ machine: m }),
        flags: [
          { flags: '--clone <clone>', doc: 'the existing clone it switches to', field: 'to.clone' },
          { flags: '--master <master>', doc: 'make a clone of this master and switch to it', field: 'to.master' },
          { flags: '--name <name>', doc: 'the new clone\u2019s name (with --master)', field: 'to.name' },
          { ...vars, field: 'to.variables' },
          { flags: '--old <what>', doc: 'standby (default) or destroy: what becomes of the old clone' },
        ],
      },
    ],
  },
  {
    name: 'service-updates',
    summary: 'Roll a new master out onto a service\u2019s machines in waves',
    path: '/v1/service-updates',
    columns: [id, status],
    list: false,
    actions: [
      {
        name: 'create',
        summary: 'Start a service update',
        method: 'POST',
        path: post('/v1/service-updates'),
        flags: [
          {
            flags: '--machine <machine>',
            doc: 'a machine of the service; repeatable',
            kind: 'list',
            field: 'machines',
          },
          { flags: '--deployment <deployment>', doc: 'the deployment whose machines are updated' },
          { flags: '--new-master <master>', doc: 'the master the service moves to' },
          { flags: '--staging-machine <machine>', doc: 'prepare the update on this machine' },
          { flags: '--hook <hook>', doc: 'the agent hook that applies the update' },
          vars,
        ],
      },
      ...(['approve', 'rollback', 'finalize'] as const).map((verb) => ({
        name: verb,
        summary: {
          approve: 'Approve a prepared update: its staging clone becomes the next master version',
          rollback: 'Switch every updated machine back to its standby clone',
          finalize: 'Destroy the standby clones of a service update',
        }[verb],
        args: ['<id>'],
        method: 'POST' as const,
        path: ([i]: string[]) => at('/v1/service-updates', i!, verb),
      })),
    ],
  },
  {
    name: 'discovery',
    summary: 'Discoveries: ask a site\u2019s seeds what they hold',
    path: '/v1/discoveries',
    columns: [id, { head: 'SITE', get: 'site' }, status, created],
    actions: [
      {
        name: 'start',
        summary: 'Run a discovery with seeds given here (--body) or the site\u2019s stored ones',
        method: 'POST',
        path: post('/v1/discoveries'),
        flags: [site, dryRun, { flags: '--replay', doc: 'replay recorded evidence', kind: 'bool' }],
      },
      {
        name: 'settings',
        summary: 'A site\u2019s discovery: seeds (credentials never shown), schedule, evidence settings',
        args: ['<site>'],
        method: 'GET',
        path: ([s]) => at('/v1/sites', s!, 'discovery'),
      },
      {
        name: 'configure',
        summary: 'Set a site\u2019s discovery: seeds (--body), schedule',
        args: ['<site>'],
        method: 'PUT',
        path: ([s]) => at('/v1/sites', s!, 'discovery'),
        flags: [{ flags: '--every-minutes <n>', doc: 'run it this often', kind: 'int' }],
      },
      {
        name: 'run',
        summary: 'Run a site\u2019s discovery now, with its stored seeds',
        args: ['<site>'],
        method: 'POST',
        path: ([s]) => at('/v1/sites', s!, 'discovery', 'run'),
        flags: [dryRun],
      },
    ],
  },
  {
    name: 'conflicts',
    summary: 'Observations a discovery could not reconcile by itself',
    path: '/v1/conflicts',
    columns: [id, status, { head: 'SITE', get: 'site' }, { head: 'KIND', get: 'kind' }, created],
    list: [
      { flags: '--status <status>', doc: 'only these (open, resolved)' },
      { flags: '--site <site>', doc: 'only this site\u2019s' },
    ],
    actions: [
      {
        name: 'resolve',
        summary: 'Resolve a conflict: merge, replace, new machine, or ignore',
        args: ['<id>'],
        method: 'POST',
        path: ([i]) => at('/v1/conflicts', i!, 'resolve'),
        flags: [
          { flags: '--action <action>', doc: 'what to do with it', required: true },
          { flags: '--candidate <record>', doc: 'the record it merges into or replaces' },
        ],
      },
    ],
  },
  {
    name: 'exports',
    summary: 'Export masters with their lineage as a bundle',
    path: '/v1/exports',
    columns: [id, status, { head: 'MASTERS', get: 'masters' }, created],
    actions: [
      {
        name: 'create',
        summary: 'Export masters (and optionally clones, machines) as a bundle',
        args: ['<masters...>'],
        method: 'POST',
        path: post('/v1/exports'),
        fromArgs: (masters) => ({ masters }),
      },
    ],
  },
  {
    name: 'imports',
    summary: 'Import a bundle onto a site',
    path: '/v1/imports',
    columns: [id, status, { head: 'SITE', get: 'site' }, created],
    actions: [
      {
        name: 'create',
        summary: 'Import a bundle (--body \'{"bundle": …}\') onto a site',
        method: 'POST',
        path: post('/v1/imports'),
        flags: [site, dryRun, { flags: '--on-conflict <what>', doc: 'skip, rename or fail on a name that exists' }],
      },
    ],
  },
];
