/** Customization variables that the clone's template does not use are refused by name, before anything changes. */
import { beforeAll, describe, expect, it } from 'vitest';
import { Api } from '../../support/api';
import { makeClone, makeMachine, makeMaster } from '../../support/fixtures';

const api = Api.admin();

/** The clone's record, its machine's and the operations on the clone, to compare before and after a refusal. */
async function stateOf(clone: string, machine?: string) {
  return {
    clone: (await api.get(`/v1/clones/${clone}`)).body,
    machine: machine ? (await api.get(`/v1/machines/${machine}`)).body : undefined,
    operations: (await api.get(`/v1/operations?resource=${clone}`)).body.items,
  };
}

describe('customization variables a template does not use', () => {
  let master: { id: string; name: string; version: number };
  beforeAll(async () => {
    ({ master } = await makeMaster(api));
  });

  it('refuses an assign with a misspelled variable, naming it and the ones the template uses, and changes nothing', async () => {
    const clone = await makeClone(api, master.name);
    const machine = await makeMachine(api);
    const before = await stateOf(clone.id, machine.id);
    const r = await api.post(`/v1/clones/${clone.id}/assign`, {
      machine: machine.id,
      customization: { variables: { hostnme: 'web-1' } },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(400);
    expect(r.body.error).toMatchObject({
      code: 'unknown_variable',
      unknown: ['hostnme'],
      expected: ['hostname'],
      problems: [
        `body.customization.variables.hostnme: the template of master ${master.name}@${master.version} does not use it; it uses hostname`,
      ],
    });
    expect(r.body.error.message).toContain('body.customization.variables.hostnme');
    expect(r.body.error.message).toContain('it uses hostname');
    expect(await stateOf(clone.id, machine.id)).toEqual(before);
  });

  it('refuses a customize with a misspelled variable beside a right one, and changes nothing', async () => {
    const clone = await makeClone(api, master.name);
    const before = await stateOf(clone.id);
    const r = await api.post(`/v1/clones/${clone.id}/customize`, {
      variables: { hostname: 'db-1', 'domian.name': 'example.org' },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'unknown_variable', unknown: ['domian.name'], expected: ['hostname'] });
    expect(r.body.error.problems).toEqual([
      `body.variables["domian.name"]: the template of master ${master.name}@${master.version} does not use it; it uses hostname`,
    ]);
    expect(await stateOf(clone.id)).toEqual(before);
  });

  it("accepts a variable that the request's own items or the clone's earlier items use", async () => {
    const clone = await makeClone(api, master.name);
    const motd = [{ type: 'file', path: '/etc/motd', content: 'welcome to ${site}\n' }];
    const first = await api.run(`/v1/clones/${clone.id}/customize`, {
      items: motd,
      variables: { hostname: 'a-1', site: 'east' },
      to: 1,
    });
    expect(first.status, JSON.stringify(first)).toBe('succeeded');
    // `site` is used by the clone's own item now; a new name is not, and the message says whose items were looked at.
    const again = await api.post(`/v1/clones/${clone.id}/customize`, { variables: { site: 'west', zone: 'b' } });
    expect(again.status, JSON.stringify(again.body)).toBe(400);
    expect(again.body.error).toMatchObject({ unknown: ['zone'], expected: ['hostname', 'site'] });
    expect(again.body.error.message).toContain("and the clone's own items does not use it");
    const ok = await api.run(`/v1/clones/${clone.id}/customize`, { variables: { site: 'west' } });
    expect(ok.status, JSON.stringify(ok)).toBe('succeeded');
  });

  it('says a template that uses no variables uses none', async () => {
    const { master: plain } = await makeMaster(api, { customization: [] });
    const clone = await makeClone(api, plain.name);
    const r = await api.post(`/v1/clones/${clone.id}/customize`, { variables: { hostname: 'x', ip: '10.0.0.1' } });
    expect(r.status, JSON.stringify(r.body)).toBe(400);
    expect(r.body.error.unknown).toEqual(['hostname', 'ip']);
    expect(r.body.error.message).toBe(
      `body.variables.hostname, body.variables.ip: the template of master ${plain.name}@1 does not use them; it uses no variables; check the spelling, or leave them out`,
    );
  });

  it('is described in the OpenAPI document: the variables of assign and customize, and the dropped ones of a member', async () => {
    const doc = (await api.get('/v1/openapi.json')).body;
    const bodyOf = (event: string) =>
      doc.paths[`/v1/clones/{id}/${event}`].post.requestBody.content['application/json'].schema;
    expect(bodyOf('customize').properties.variables.description).toContain('`unknown_variable`');
    expect(bodyOf('assign').properties.customization.properties.variables.description).toContain(
      'No variable is built in',
    );
    const member = doc.components.schemas.ServiceUpdate.properties.members.items;
    expect(member.properties.dropped.description).toContain("the new master's template does not use");
  });

  it('keeps refusing a variable the template needs but the request lacks', async () => {
    const clone = await makeClone(api, master.name);
    const r = await api.post(`/v1/clones/${clone.id}/customize`, {});
    expect(r.status, JSON.stringify(r.body)).toBe(400);
    expect(r.body.error.code).toBe('invalid_input');
    expect(r.body.error.message).toContain('hostname');
  });
});
