/**
 * Where the API is and which token to send. Each setting comes from the first of:
 *   1. the command line (`--url`, `--token`)
 *   2. the environment (`ENCOMPASS_URL`, `ENCOMPASS_TOKEN`)
 *   3. the config file: `$ENCOMPASS_CONFIG`, else `$XDG_CONFIG_HOME/encompass/config.json`, else
 *      `~/.config/encompass/config.json`; JSON `{"url": "...", "token": "..."}`
 *   4. the local stack: `http://127.0.0.1:$ENCOMPASS_PORT` (8787), and the admin token it wrote to
 *      `$ENCOMPASS_HOME/admin-token` (`./.encompass`)
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from './errors';

export interface Settings {
  url: string;
  token?: string;
  /** Where each setting came from, for `encompass config`. */
  from: { url: string; token: string };
}

export const settingsHelp = `Settings (first found wins):
  1. --url, --token
  2. ENCOMPASS_URL, ENCOMPASS_TOKEN
  3. the config file {"url": "...", "token": "..."}: $ENCOMPASS_CONFIG, else
     $XDG_CONFIG_HOME/encompass/config.json, else ~/.config/encompass/config.json
  4. the local stack: http://127.0.0.1:$ENCOMPASS_PORT (8787) and $ENCOMPASS_HOME/admin-token
     (./.encompass/admin-token)`;

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.ENCOMPASS_CONFIG) return env.ENCOMPASS_CONFIG;
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'encompass', 'config.json');
}

/** The config file's settings; none when it does not exist. A file that is not valid JSON is an error. */
function readConfig(path: string, named: boolean): { url?: string; token?: string } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (named && (e as NodeJS.ErrnoException).code === 'ENOENT')
      throw new UsageError(
        `the config file ${path} (ENCOMPASS_CONFIG) does not exist; create it or unset ENCOMPASS_CONFIG`,
      );
    return {};
  }
  try {
    const c = JSON.parse(text) as unknown;
    if (typeof c !== 'object' || c === null || Array.isArray(c)) throw new Error('not an object');
    const { url, token } = c as Record<string, unknown>;
    if ((url !== undefined && typeof url !== 'string') || (token !== undefined && typeof token !== 'string'))
      throw new Error('"url" and "token" must be strings');
    return { url, token };
  } catch (e) {
    throw new UsageError(
      `the config file ${path} is not valid: ${(e as Error).message}; it holds {"url": "...", "token": "..."}`,
    );
  }
}

function localToken(env: NodeJS.ProcessEnv): string | undefined {
  try {
    return readFileSync(join(env.ENCOMPASS_HOME ?? '.encompass', 'admin-token'), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

export function resolveSettings(
  flags: { url?: string; token?: string },
  env: NodeJS.ProcessEnv = process.env,
): Settings {
  const path = configPath(env);
  const config = readConfig(path, Boolean(env.ENCOMPASS_CONFIG));
  const pick = <T>(...c: [T | undefined, string][]): [T | undefined, string] =>
    c.find(([v]) => v !== undefined && v !== '') ?? [undefined, 'none'];
  const [url, urlFrom] = pick<string>(
    [flags.url, '--url'],
    [env.ENCOMPASS_URL, 'ENCOMPASS_URL'],
    [config.url, path],
    [`http://127.0.0.1:${env.ENCOMPASS_PORT ?? 8787}`, 'the local stack'],
  );
  const [token, tokenFrom] = pick<string>(
    [flags.token, '--token'],
    [env.ENCOMPASS_TOKEN, 'ENCOMPASS_TOKEN'],
    [config.token, path],
    [localToken(env), `${env.ENCOMPASS_HOME ?? '.encompass'}/admin-token`],
  );
  return { url: url!.replace(/\/+$/, ''), token, from: { url: urlFrom, token: tokenFrom } };
}
