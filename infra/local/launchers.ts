/**
 * The processes that launched the stack. `npm start` is a chain (npm, sh, the stack), and a
 * SIGKILL of npm's PID ends npm alone: the stack watches the chain and stops when a link is gone, so
 * that killing `npm start` ends the stack and, through their lifelines, all its children.
 */
import { isRunning, type ProcessRef, processInfo } from './procs';

const WATCH_EVERY_MS = 500;
/** npm start, sh -c, and a wrapper or two: the chain is no longer than this. */
const MAX_CHAIN = 4;

const isNpm = (argv: string[]) => /^npm( |$)/.test(argv[0] ?? '') || argv.some((a) => a.endsWith('npm-cli.js'));

/** The parent, and when run by npm (`npm_lifecycle_event` set) every ancestor up to npm itself. */
export function launchers(env: NodeJS.ProcessEnv = process.env): ProcessRef[] {
  const out: ProcessRef[] = [];
  let pid = process.ppid;
  for (let i = 0; i < MAX_CHAIN && pid > 1; i++) {
    const info = processInfo(pid);
    if (!info) break;
    out.push({ pid, startTicks: info.startTicks, tag: info.argv[0] ?? '' });
    if (env.npm_lifecycle_event === undefined || isNpm(info.argv)) break;
    pid = info.ppid;
  }
  return out;
}

/** Calls `onGone` once, when the first of `chain` has ended. */
export function watchLaunchers(chain: ProcessRef[], onGone: (what: string) => void): void {
  const timer = setInterval(() => {
    const gone = chain.find((p) => !isRunning(p));
    if (!gone) return;
    clearInterval(timer);
    onGone(`PID ${gone.pid} (${gone.tag})`);
  }, WATCH_EVERY_MS);
  timer.unref();
}
