/**
 * The deployment zip holds the compiled app and nothing of the runtime package, the tools or the
 * tests. The list comes from tools/deploy-package.ts applying .funcignore to the tree as a fresh
 * clone has it after `npm run build`: the tracked files, the app compiled for real (into a temp
 * dist/), and the paths the runtime package's and the tools' builds write.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keptFiles, treeFiles } from '../../../tools/deploy-package';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const funcignore = fs.readFileSync(path.join(ROOT, '.funcignore'), 'utf8');
let tmp: string;
let files: string[];

/** `x.ts` → what tsc writes for it under `outDir` (js, map, and for the package its typings). */
function emitted(source: string, outDir: string, rootDir: string, declarations: boolean): string[] {
  const base = path.posix.join(outDir, path.posix.relative(rootDir, source).replace(/\.ts$/, ''));
  return [`${base}.js`, `${base}.js.map`, ...(declarations ? [`${base}.d.ts`] : [])];
}

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'deploy-list-'));
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const built = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', path.join(tmp, 'dist')], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (built.status !== 0) throw new Error(`The app does not build:\n${built.stdout}${built.stderr}`);
  const tracked = execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' })
    .split('\n')
    .filter((f) => f !== '');
  const sources = tracked.filter((f) => f.endsWith('.ts'));
  const packageBuild = sources
    .filter((f) => f.startsWith('packages/functions-local/src/'))
    .flatMap((f) => emitted(f, 'packages/functions-local/dist', 'packages/functions-local/src', true));
  const toolsBuild = sources
    .filter((f) => /^(tools|functions|domain)\//.test(f))
    .flatMap((f) => emitted(f, 'dist-tools', '', false));
  const appBuild = treeFiles(tmp);
  files = keptFiles(
    [...tracked, ...appBuild, ...packageBuild, ...toolsBuild, 'local.settings.json', '.data/runtime.json'],
    funcignore,
  );
}, 120_000);

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('the deployment zip', () => {
  it('holds only the compiled app, host.json, package.json and the lock file', () => {
    const outside = files.filter((f) => !/^dist\/(domain|functions)\/.+\.js(\.map)?$/.test(f));
    expect(outside).toEqual(['host.json', 'package-lock.json', 'package.json']);
  });

  it('holds the whole compiled app: every source file of domain/ and functions/ as js and map', () => {
    const expected = execFileSync('git', ['ls-files', 'domain', 'functions'], { cwd: ROOT, encoding: 'utf8' })
      .split('\n')
      .filter((f) => f.endsWith('.ts'))
      .flatMap((f) => emitted(f, 'dist', '', false));
    expect(files.filter((f) => f.startsWith('dist/'))).toEqual(expected.sort());
    expect(files).toContain('dist/functions/index.js');
  });

  it('holds nothing of the runtime package, the tools, the tests or the local data', () => {
    expect(
      files.filter(
        (f) =>
          /(^|\/)(packages|tools|test|dist-tools|\.data)\//.test(f) || f.endsWith('.ts') || f === 'local.settings.json',
      ),
    ).toEqual([]);
  });

  it('keeps a stale dist/tools/ of an older build layout out', () => {
    expect(keptFiles(['dist/tools/local/start.js', 'dist/functions/index.js', 'host.json'], funcignore)).toEqual([
      'dist/functions/index.js',
      'host.json',
    ]);
  });
});

describe('.funcignore rules (gitignore semantics)', () => {
  it('anchors a leading slash, matches unanchored names at any depth, and lets the last rule win', () => {
    const rules = '/tools/\n*.log\n/dist/*\n!/dist/app/\n';
    expect(
      keptFiles(
        ['tools/a.js', 'dist/tools/a.js', 'x/tools/a.js', 'a.log', 'deep/b.log', 'dist/app/a.js', 'dist/other/a.js'],
        rules,
      ),
    ).toEqual(['dist/app/a.js', 'x/tools/a.js']);
  });

  it('never re-includes a file under an excluded directory', () => {
    expect(keptFiles(['test/a.js'], '/test/\n!/test/a.js\n')).toEqual([]);
  });
});
