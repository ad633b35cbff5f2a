/**
 * Agent tasks by the name the state machines use (the lifecycle table's `task` column), one for
 * every contract in statemachines/tasks.ts: a task without an implementation does not compile.
 */
import type { TaskName } from '../../statemachines/tasks';
import { bundleCopy, bundleDiscard, bundleVerify, bundleWrite } from './bundle';
import { checkRepository } from './check';
import type { Task } from './context';
import { customize, rollback } from './customize';
import { discover } from './discover';
import { health } from './health';
import { runHook } from './hook';
import { captureImage, cloneImage, destroyImage, importImage, relocateImage } from './images';
import { attach, detach, powerOff, powerOn } from './machines';

export const tasks: { [T in TaskName]: Task<T> } = {
  import: importImage,
  clone: cloneImage,
  customize,
  rollback,
  attach,
  detach,
  power_on: powerOn,
  power_off: powerOff,
  capture: captureImage,
  relocate: relocateImage,
  destroy: destroyImage,
  bundle_write: bundleWrite,
  bundle_verify: bundleVerify,
  bundle_copy: bundleCopy,
  bundle_discard: bundleDiscard,
  check: checkRepository,
  discover,
  health,
  hook: runHook,
};
