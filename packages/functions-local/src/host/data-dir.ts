/**
 * The data directory: one runtime per directory (a second would interleave writes to the same
 * logs), guarded by a lock file with the owner's pid, and `fresh` wipes only a directory the
 * runtime created (the marker file says so).
 */
import fs from 'node:fs';
import path from 'node:path';
import { isAlive } from '../azurite/process';

/** Marks a directory as a runtime data directory, so `fresh` never wipes anything else. */
const MARKER = '.fabrikam-local';
const LOCK = 'runtime.lock';

/** Data directories held by runtimes in this process (the lock file tells other processes). */
const held = new Set<string>();

/** One runtime per data directory: a second one would interleave writes to the same logs. */
export function prepareDataDir(dataDir: string, fresh: boolean): void {
  if (held.has(dataDir)) throw new Error(`${dataDir} is in use by process ${process.pid} (this one).`);
  if (fresh && fs.existsSync(dataDir) && fs.readdirSync(dataDir).length > 0) {
    if (!fs.existsSync(path.join(dataDir, MARKER))) {
      throw new Error(`Refusing to wipe ${dataDir}: it was not created by the local runtime (no ${MARKER} file).`);
    }
    const lock = path.join(dataDir, LOCK);
    const owner = fs.existsSync(lock) ? Number(fs.readFileSync(lock, 'utf8')) : NaN;
    if (Number.isInteger(owner) && owner !== process.pid && isAlive(owner))
      throw new Error(`${dataDir} is in use by process ${owner}.`);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(
    path.join(dataDir, MARKER),
    'Data of a local Functions runtime (functions-local). Safe to delete when it is not running.\n',
  );
  const lock = path.join(dataDir, LOCK);
  if (fs.existsSync(lock)) {
    const owner = Number(fs.readFileSync(lock, 'utf8'));
    if (Number.isInteger(owner) && owner !== process.pid && isAlive(owner)) {
      throw new Error(`${dataDir} is in use by process ${owner}; stop it or pass another --data-dir.`);
    }
  }
  fs.writeFileSync(lock, String(process.pid));
  held.add(dataDir);
}

/** Gives the directory up: the lock file goes, so the next runtime may take it. */
export function releaseDataDir(dataDir: string): void {
  held.delete(dataDir);
  fs.rmSync(path.join(dataDir, LOCK), { force: true });
}
