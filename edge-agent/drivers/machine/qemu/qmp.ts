/** A minimal QMP client: one command per connection, enough to press the ACPI power button. */
import net from 'node:net';

/** Unix socket paths longer than this do not fit in sockaddr_un. */
export const MAX_SOCKET_PATH_BYTES = 107;

interface QmpMessage {
  QMP?: unknown;
  return?: unknown;
  error?: { desc?: string };
}

/** Runs `command` over the QMP socket; rejects on a QMP error, a closed socket or after `timeoutMs`. */
export function qmpExecute(socketPath: string, command: string, timeoutMs = 3000): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    let buffered = '';
    let negotiated = false;
    const finish = (err?: Error) => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(() => finish(new Error(`QMP ${command} got no answer within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (msg: QmpMessage) => {
      if (msg.error) finish(new Error(`QMP ${command} failed: ${msg.error.desc ?? 'unknown error'}`));
      else if (msg.QMP !== undefined) socket.write('{"execute":"qmp_capabilities"}\n');
      else if (msg.return !== undefined && !negotiated) {
        negotiated = true;
        socket.write(`${JSON.stringify({ execute: command })}\n`);
      } else if (msg.return !== undefined) finish();
      // Anything else is an asynchronous event (POWERDOWN, SHUTDOWN…), not our answer.
    };
    socket.on('error', (err) => finish(err));
    socket.on('close', () => finish(new Error(`QMP socket closed before ${command} was answered`)));
    socket.on('data', (data) => {
      buffered += data.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        if (line.trim() === '') continue;
        try {
          onMessage(JSON.parse(line) as QmpMessage);
        } catch (err) {
          finish(err as Error);
        }
      }
    });
  });
}
