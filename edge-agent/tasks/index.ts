/** Agent tasks by the name the state machines use (the lifecycle table's `task` column). */
import type { Task } from './context';
import { customize, rollback } from './customize';
import { captureImage, cloneImage, destroyImage, importImage } from './images';
import { attach, detach, powerOff, powerOn } from './machines';

export const tasks: Record<string, Task> = {
  import: importImage,
  clone: cloneImage,
  customize,
  rollback,
  attach,
  detach,
  power_on: powerOn,
  power_off: powerOff,
  capture: captureImage,
  destroy: destroyImage,
};
