/** Timing shared by the state machine definitions and the code that explains their errors. */

/** Seconds without a heartbeat after which the agent is taken for dead. */
export const HEARTBEAT_SECONDS = 20;
/** Seconds between an agent's heartbeats of a running task by default: well under HEARTBEAT_SECONDS. */
export const HEARTBEAT_INTERVAL_SECONDS = 5;
/** The longest an agent task may run (a full copy of a large image). */
export const AGENT_TIMEOUT_SECONDS = 6 * 3600;

/** How long one `member` step of a deployment may wait for its member's operation before the workflow asks again. */
export const MEMBER_WAIT_SECONDS = 20;
