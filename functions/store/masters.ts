/**
 * Masters are versioned: `name` points at the newest version, `name@N` at version N. Capturing a
 * clone makes the next version of its master's name (or version 1 of a new name).
 */
import { nameKey, type Write } from './db';
import type { Master } from './records';
import { Resources } from './resources';

export class Masters extends Resources<Master> {
  override createWrites(m: Master): Write[] {
    return [...super.createWrites(m), this.nameWrite(`${m.name}@${m.version}`, m.id)];
  }

  /** A new version of an existing name: moves the name to `m` only if it still points at `previous`. */
  nextVersionWrites(m: Master, previous: string): Write[] {
    return [
      this.db.putNew(this.toItem(m)),
      {
        Put: {
          TableName: this.db.table,
          Item: { ...nameKey('master', m.name), id: m.id, kind: 'master' },
          ConditionExpression: 'id = :prev',
          ExpressionAttributeValues: { ':prev': previous },
        },
      },
      this.nameWrite(`${m.name}@${m.version}`, m.id),
    ];
  }

  override deleteWrites(m: Master): Write[] {
    return [...super.deleteWrites(m), this.releaseNameWrite(`${m.name}@${m.version}`, m.id)];
  }
}
