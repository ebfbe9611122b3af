import { spawn, type ChildProcess } from 'node:child_process';
import { Socket } from 'node:net';
import type { Readable } from 'node:stream';

/**
 * Runs the JVM under a small /bin/sh wrapper so the broker cannot outlive the Node process that started
 * it. Exit handlers do not run when Node is SIGKILLed (or crashes hard), and Linux offers no portable
 * "die with parent" for a grandchild, so the wrapper watches for itself:
 *   - a watchdog subshell checks once a second that the wrapper's parent is still the Node process
 *     (/proc/<wrapper>/stat's ppid changes when Node dies and the wrapper is re-parented; elsewhere it
 *     falls back to `kill -0 <node pid>`), and otherwise sends the JVM SIGTERM, then SIGKILL after 30 s;
 *   - the wrapper itself stays until the JVM has exited and reaps it, so Node's `exit` event for the
 *     wrapper means "the broker is gone and its ports and data dir are released";
 *   - SIGTERM/INT/HUP to the wrapper are forwarded to the JVM, which shuts down cleanly on SIGTERM.
 * The JVM's stdout/stderr (JVM crashes, class-path errors) are appended to `outputFile`. The first line
 * the wrapper prints is the JVM's pid.
 */
const WRAPPER_SCRIPT = `
parent=$1; out=$2; shift 2
"$@" >>"$out" 2>&1 </dev/null &
child=$!
echo "$child"
parent_alive() {
  if [ -r "/proc/$$/stat" ]; then
    read -r _ _ _ ppid _ < "/proc/$$/stat"
    [ "$ppid" = "$parent" ]
  else
    kill -0 "$parent" 2>/dev/null
  fi
}
(
  while parent_alive && kill -0 "$child" 2>/dev/null; do sleep 1; done
  kill -TERM "$child" 2>/dev/null
  i=0
  while [ "$i" -lt 30 ] && kill -0 "$child" 2>/dev/null; do sleep 1; i=$((i + 1)); done
  kill -KILL "$child" 2>/dev/null
) &
watchdog=$!
trap 'kill -TERM "$child" 2>/dev/null' TERM INT HUP
while :; do
  wait "$child"; status=$?
  # wait returns >128 when a trapped signal interrupts it; keep waiting while the JVM shuts down.
  if [ "$status" -gt 128 ] && kill -0 "$child" 2>/dev/null; then continue; fi
  break
done
kill "$watchdog" 2>/dev/null
exit "$status"
`;

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface WatchedProcess {
  /** The JVM's pid (not the wrapper's). */
  pid: number;
  /** Resolves once the JVM has exited and been reaped. Never rejects. */
  exited: Promise<ProcessExit>;
  hasExited(): boolean;
  /** SIGTERM, then SIGKILL after `timeoutMs`; resolves when the JVM is gone. */
  stop(timeoutMs: number): Promise<ProcessExit>;
}

/** Signals the wrapper's whole process group (wrapper, JVM, watchdog); a vanished group is not an error. */
function signalGroup(wrapper: ChildProcess, signal: NodeJS.Signals): void {
  if (wrapper.pid === undefined) return;
  try {
    process.kill(-wrapper.pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** Child stdio pipes are net.Socket instances at runtime, which can be unref'd like the child itself. */
function unrefPipe(stream: Readable | null): void {
  if (stream instanceof Socket) stream.unref();
}

function readFirstLine(wrapper: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    let stderr = '';
    wrapper.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    wrapper.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const newline = buffered.indexOf('\n');
      if (newline >= 0) resolve(buffered.slice(0, newline).trim());
    });
    wrapper.once('error', reject);
    wrapper.once('exit', (code) =>
      reject(new Error(`/bin/sh wrapper exited with code ${code} before starting java: ${stderr.trim()}`)),
    );
  });
}

/** Starts `command args…` under the parent-watching wrapper, in its own process group. */
export async function spawnWatchedProcess(
  command: string,
  args: string[],
  outputFile: string,
): Promise<WatchedProcess> {
  // detached: its own process group, so stop() can signal wrapper + JVM + watchdog together, and a
  // terminal's Ctrl-C reaches only the Node process, which then stops the broker in order.
  const wrapper = spawn(
    '/bin/sh',
    ['-c', WRAPPER_SCRIPT, 'modelwatch-kafka', String(process.pid), outputFile, command, ...args],
    {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let exitInfo: ProcessExit | undefined;
  const exited = new Promise<ProcessExit>((resolve) => {
    wrapper.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      resolve(exitInfo);
    });
    wrapper.once('error', () => {
      exitInfo ??= { code: null, signal: null };
      resolve(exitInfo);
    });
  });
  // A normal Node exit that forgot stop(): ask the broker to shut down rather than leave it to the watchdog.
  const onParentExit = (): void => signalGroup(wrapper, 'SIGTERM');
  process.once('exit', onParentExit);
  void exited.then(() => process.removeListener('exit', onParentExit));

  const pidLine = await readFirstLine(wrapper);
  const pid = Number(pidLine);
  if (!Number.isInteger(pid) || pid <= 0) {
    signalGroup(wrapper, 'SIGKILL');
    throw new Error(`/bin/sh wrapper printed ${JSON.stringify(pidLine)} instead of the JVM's pid`);
  }
  // Only the pid line was needed; keep draining so the wrapper can never block on a full pipe.
  wrapper.stdout?.resume();
  wrapper.stderr?.resume();
  // A running broker does not keep Node alive by itself: a process that ends without stop() (a failed
  // test, a finished script) exits, and the exit handler above stops the JVM. Callers that mean to wait
  // for the broker (`kafka start`) hold the event loop open themselves; stop() does through its timer.
  wrapper.unref();
  unrefPipe(wrapper.stdout);
  unrefPipe(wrapper.stderr);

  const hasExited = (): boolean => exitInfo !== undefined;
  return {
    pid,
    exited,
    hasExited,
    async stop(timeoutMs) {
      if (hasExited()) return exited;
      // The wrapper is unref'd: hold the event loop open until the JVM is really gone, or a script's
      // `await kafka.stop()` could end Node before it returns.
      const keepAlive = setInterval(() => {}, 1_000);
      const timedOut = Symbol('timeout');
      let timer: NodeJS.Timeout | undefined;
      try {
        signalGroup(wrapper, 'SIGTERM');
        const outcome = await Promise.race([
          exited,
          new Promise<typeof timedOut>((resolve) => (timer = setTimeout(() => resolve(timedOut), timeoutMs))),
        ]);
        if (outcome !== timedOut) return outcome;
        signalGroup(wrapper, 'SIGKILL');
        return await exited;
      } finally {
        clearTimeout(timer);
        clearInterval(keepAlive);
      }
    },
  };
}
