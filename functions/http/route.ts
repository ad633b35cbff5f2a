/**
 * A route is data: method, path, who may call it, the schemas of its input, and a handler that
 * only wires (parse, call a plain function, return its result). The OpenAPI document and the
 * authorization test are generated from the same list.
 */
import type { z } from 'zod';
import type { Access, Principal } from '../auth/principal';
import type { Deps } from '../deps';

export interface Ctx<B, Q> {
  deps: Deps;
  principal: Principal | undefined;
  params: Record<string, string>;
  body: B;
  query: Q;
  request: Request;
}

export interface RouteSpec<B = unknown, Q = unknown> {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** OpenAPI-style path, e.g. `/v1/clones/{id}`. */
  path: string;
  /** The operation's stable name in the OpenAPI document and generated clients: `listClones`, `assignClone`. */
  operationId: string;
  summary: string;
  access: Access;
  tag: string;
  body?: z.ZodType<B>;
  /**
   * A PATCH route: the document its body is a JSON merge patch of (http/merge-patch.ts). The OpenAPI
   * document describes the body from it; the handler merges and checks the result against it.
   */
  mergePatchOf?: z.ZodType;
  query?: z.ZodType<Q>;
  /**
   * The schema of a successful answer (functions/domain/responses.ts): the OpenAPI document names it,
   * and `route()` has the compiler check the handler's result against it (not checked at run time).
   */
  response: z.ZodType;
  /** Left out of the OpenAPI document: a route that only answers a clear error (an unknown event). */
  undocumented?: true;
  /** The largest body the route reads (default MAX_BODY_BYTES): 413 above it. */
  maxBodyBytes?: number;
  /** Status of a successful answer (202 for operations). */
  status?: 200 | 201 | 202;
  /** A status that depends on the result (a dry run or a repeated request answers 200). */
  statusOf?: (result: unknown) => 200 | 201 | 202;
  handler: (ctx: Ctx<B, Q>) => Promise<unknown>;
}

/** A route whose handler's result must fit its `response` schema. */
export function route<B = undefined, Q = Record<string, never>, S extends z.ZodType = z.ZodType>(
  spec: Omit<RouteSpec<B, Q>, 'response' | 'handler'> & {
    response: S;
    handler: (ctx: Ctx<B, Q>) => Promise<NoInfer<z.output<S>>>;
  },
): RouteSpec {
  return spec as unknown as RouteSpec;
}

/** `/v1/clones/{id}` → `/v1/clones/:id` */
export const honoPath = (path: string) => path.replace(/\{(\w+)\}/g, ':$1');
