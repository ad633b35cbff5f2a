/**
 * Masters are versioned: `name` points at the newest version, `name@N` at version N. Capturing a
 * clone makes the next version of its master's name (or version 1 of a new name).
 */
import { nameKey, recordKey, type Write } from './db';
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

  /** Masters go with `removeWrites`, which also moves the plain name to the newest version left. */
  override deleteWrites(_m: Master): Write[] {
    throw new Error('masters are removed with removeWrites (the plain name may move to another version)');
  }

  /**
   * The writes that remove version `m`: its record, its `name@N`, and the plain name if it names `m`,
   * which then moves to the newest version left (or goes with the last one). Each write is
   * conditional, so a capture or a removal racing this one makes it a conflict, never a wrong name.
   */
  async removeWrites(m: Master): Promise<Write[]> {
    const writes = [
      this.db.delete(recordKey(this.kind, m.id), { expression: 'rev = :rev', values: { ':rev': m.rev } }),
      this.releaseNameWrite(`${m.name}@${m.version}`, m.id),
    ];
    const plain = await this.db.get<{ id: string }>(nameKey('master', m.name));
    if (plain?.id !== m.id) return writes;
    const successor = await this.newestBelow(m.name, m.version);
    if (!successor) return [...writes, this.releaseNameWrite(m.name, m.id)];
    return [
      ...writes,
      {
        Put: {
          TableName: this.db.table,
          Item: { ...nameKey('master', m.name), id: successor.id, kind: 'master' },
          ConditionExpression: 'id = :id',
          ExpressionAttributeValues: { ':id': m.id },
        },
      },
    ];
  }

  /** The newest version of `name` below `version`, looked up a few versions at a time. */
  private async newestBelow(name: string, version: number): Promise<Master | undefined> {
    const CHUNK = 16;
    for (let top = version - 1; top >= 1; top -= CHUNK) {
      const vs = Array.from({ length: Math.min(CHUNK, top) }, (_, i) => top - i);
      const found = await Promise.all(vs.map((v) => this.find(`${name}@${v}`)));
      const newest = found.find((f) => f !== undefined);
      if (newest) return newest;
    }
    return undefined;
  }
}
