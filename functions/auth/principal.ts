/**
 * Who is calling, from the bearer token. Roles are ordered viewer < operator < admin; `agent`
 * tokens act for one site and may only use the agent routes, which no other role may use: a
 * heartbeat or a progress report is believed, so only the agent of that site may send one (the
 * handler checks the site).
 */
import type { Deps } from '../deps';
import { ForbiddenError, NotThisAgentError, UnauthorizedError } from '../errors';
import type { Role } from '../store/records';

export interface Principal {
  tokenId: string;
  role: Role;
  site?: string;
}

/** What a route demands: a minimum human role, the site agent, or nothing. */
export type Access = 'public' | 'viewer' | 'operator' | 'admin' | 'agent';

const rank: Record<Role, number> = { agent: -1, viewer: 0, operator: 1, admin: 2 };

export const actorOf = (p: Principal | undefined) => (p ? `${p.role}:${p.tokenId}` : 'anonymous');

/** Refuses any caller but the agent of `site` (an agent token names its site by name, or by id if older). */
export function requireAgentOf(p: Principal | undefined, site: { id: string; name: string }, what: string): void {
  if (p?.role !== 'agent' || (p.site !== site.name && p.site !== site.id))
    throw new NotThisAgentError(what, site.name, { role: p?.role ?? 'anonymous', site: p?.site });
}

export async function authenticate(deps: Deps, header: string | null): Promise<Principal> {
  const m = header?.match(/^Bearer\s+(\S+)$/i);
  if (!m) throw new UnauthorizedError();
  const token = await deps.tokens.lookup(m[1]!);
  if (!token) throw new UnauthorizedError('unknown or revoked token; ask an admin for a new one');
  return { tokenId: token.id, role: token.role, site: token.site };
}

export function authorize(p: Principal, access: Access): void {
  if (access === 'public') return;
  if (access === 'agent') {
    if (p.role !== 'agent') throw new ForbiddenError(p.role, 'agent');
    return;
  }
  if (rank[p.role] < rank[access]) throw new ForbiddenError(p.role, access);
}
