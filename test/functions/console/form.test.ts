/** Console forms: fields from the API's body schemas, and the JSON body a submitted form stands for. */
import { describe, expect, it } from 'vitest';
import { bodyOf, fieldsOf, inputName } from '../../../functions/console/form';
import * as s from '../../../functions/domain/schemas';
import { eventEntries } from '../../../functions/events';

describe('console forms', () => {
  it('make one field per leaf of a body schema, typed by how its text becomes JSON', () => {
    const fields = fieldsOf(s.importMaster);
    expect(fields.map(inputName)).toEqual(
      expect.arrayContaining([
        'name:text',
        'repository:text',
        'path:text',
        'requirements.minCpus:number',
        'customization:json',
      ]),
    );
    expect(fields.find((f) => f.path === 'name')?.optional).toBe(false);
    expect(fields.find((f) => f.path === 'requirements.minCpus')?.optional).toBe(true);
    expect(fieldsOf(s.createClone).find((f) => f.path === 'method')?.options).toContain('sparse');
    expect(fieldsOf(eventEntries.assign.body).map(inputName)).toEqual([
      'machine:text',
      'customization.items:json',
      'customization.variables:map',
    ]);
    expect(fieldsOf(eventEntries.attach.body)).toEqual([]);
  });

  it('turn submitted text into the body, leaving out what is empty', () => {
    expect(
      bodyOf({
        _method: 'post',
        'machine:text': 'blade1',
        'customization.variables:map': 'hostname=web-1\r\ndomain=a=b',
        'customization.items:json': '',
        'to:number': '2',
        'tags:list': 'rack1\n rack2 \n',
      }),
    ).toEqual({
      machine: 'blade1',
      customization: { variables: { hostname: 'web-1', domain: 'a=b' } },
      to: 2,
      tags: ['rack1', 'rack2'],
    });
  });

  it('pass text that is not of its kind on as it is, for the API to refuse in its own words', () => {
    expect(bodyOf({ 'to:number': 'two', 'items:json': '[{', 'variables:map': 'no equals sign' })).toEqual({
      to: 'two',
      items: '[{',
      variables: 'no equals sign',
    });
  });
});
