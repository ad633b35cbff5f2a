/** What a console page is given: the API (as the session's token), who is looking, and the routes' body schemas. */
import type { Context } from 'hono';
import type { z } from 'zod';
import type { ConsoleApi } from './client';
import type { Viewer } from './layout';

export interface PageCtx {
  api: ConsoleApi;
  viewer: Viewer;
  /** The body schema of the API route `method path` (a PATCH's: the document it merges into), for its form. */
  schema(method: 'post' | 'patch', path: string): z.ZodType | undefined;
}

export type ConsoleEnv = { Variables: { page: PageCtx } };
export type ConsoleContext = Context<ConsoleEnv>;

/** A list answer of the API. */
export interface List<T> {
  items: T[];
  cursor?: string;
}

/** How many records a list page reads (the API's largest page). */
export const PAGE = 500;
