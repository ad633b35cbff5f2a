/**
 * A hook: a command of the agent's configuration that applies an update, run by name. It gets what
 * it works on in its environment, never a credential: ENCOMPASS_HOOK, and for an image hook
 * ENCOMPASS_IMAGE (the image file's path) and ENCOMPASS_IMAGE_FORMAT; for a machine hook
 * ENCOMPASS_MACHINE (its name), ENCOMPASS_MACHINE_ID, ENCOMPASS_MACHINE_KIND, ENCOMPASS_MACHINE_MACS
 * (comma separated) and ENCOMPASS_MACHINE_SETTINGS (JSON). It passes when it exits 0 within its time.
 */

import { run } from '../drivers/storage/exec';
import { HOOK_OUTPUT_SHOWN_CHARS, HookFailedError, UnknownHookError } from '../errors';
import type { Task } from './context';

const DEFAULT_TIMEOUT_SECONDS = 600;

export const runHook: Task<'hook'> = async (input, ctx) => {
  const hook = ctx.hooks[input.hook];
  if (!hook || !Object.hasOwn(ctx.hooks, input.hook)) throw new UnknownHookError(input.hook, Object.keys(ctx.hooks));
  const on = hook.on === 'image' ? input.image : input.machine;
  if (!on)
    throw new HookFailedError(
      input.hook,
      `runs on ${hook.on === 'image' ? 'an image' : 'a machine'}, and the task gave none`,
      '',
    );
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    ENCOMPASS_HOOK: input.hook,
  };
  if (hook.on === 'image' && input.image) {
    const { repository, path } = input.image;
    env.ENCOMPASS_IMAGE = await ctx.drivers.storage(repository.kind).resolve(repository, path, true);
    env.ENCOMPASS_IMAGE_FORMAT = input.image.format ?? 'raw';
  }
  if (hook.on === 'machine' && input.machine) {
    const m = input.machine;
    Object.assign(env, {
      ENCOMPASS_MACHINE: m.name,
      ENCOMPASS_MACHINE_ID: m.id,
      ENCOMPASS_MACHINE_KIND: m.kind,
      ENCOMPASS_MACHINE_MACS: (m.identity.macs ?? []).join(','),
      ENCOMPASS_MACHINE_SETTINGS: JSON.stringify(m.settings),
    });
  }
  const seconds = hook.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
  const timeout = AbortSignal.timeout(seconds * 1000);
  const started = Date.now();
  ctx.report(0.1, 'hook');
  const [cmd, ...args] = hook.command as [string, ...string[]];
  let result: Awaited<ReturnType<typeof run>>;
  try {
    result = await run(cmd, args, {
      signal: AbortSignal.any([ctx.signal, timeout]),
      env,
      what: { operation: `Running hook ${input.hook}`, path: cmd },
    });
  } catch (e) {
    if (timeout.aborted && !ctx.signal.aborted)
      throw new HookFailedError(input.hook, `did not end within ${seconds} s`, '');
    throw e;
  }
  if (result.exitCode !== 0) throw new HookFailedError(input.hook, `exited with ${result.exitCode}`, result.output);
  return {
    hook: input.hook,
    exitCode: 0,
    output: result.output.slice(-HOOK_OUTPUT_SHOWN_CHARS),
    seconds: (Date.now() - started) / 1000,
  };
};
