/**
 * A 'process' worker busy in an endless CPU-bound shard ends when the program that started it
 * dies, whichever way it dies: no child is left running, adopted by init.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { until } from '../helpers.js';

const script = fileURLToPath(new URL('../fixtures/workers/orphan.js', import.meta.url));
const dirs: string[] = [];
const children: number[] = [];
after(async () => {
  for (const pid of children) if (alive(pid)) process.kill(pid, 'SIGKILL');
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function readPid(file: string): Promise<number | undefined> {
  try {
    const pid = Number(await readFile(file, 'utf8'));
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

describe("a 'process' worker when its program dies", () => {
  for (const signal of ['SIGKILL', 'SIGTERM', 'SIGINT'] as const) {
    it(`ends soon after its parent dies of ${signal}, though busy in an endless shard`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'parafor-orphan-'));
      dirs.push(dir);
      const pidFile = join(dir, 'child.pid');
      const parent = spawn(process.execPath, [script], { env: { ...process.env, PID_FILE: pidFile }, stdio: 'ignore' });
      const exited = new Promise((resolve) => parent.once('exit', resolve));
      let child: number | undefined;
      await until(() => {
        void readPid(pidFile).then((pid) => (child = pid));
        return child !== undefined;
      });
      const pid = child as number;
      children.push(pid);
      assert.ok(alive(pid), 'the child runs its shard');
      parent.kill(signal);
      await exited;
      // The watch looks every 250 ms; allow for a loaded machine.
      await until(() => !alive(pid), 2500);
    });
  }
});
