/**
 * What the deployment zip holds: the files of a tree that `.funcignore` lets through, read with
 * gitignore's rules (the syntax Core Tools and azd apply to it). node_modules is left out: the
 * deployment installs it from package.json and the lock file with production dependencies only.
 * `npm run package:list` prints the list for this repository after a build; the architecture
 * tests check it holds the compiled app and nothing of the runtime package, tools or tests.
 */
import fs from 'node:fs';
import path from 'node:path';

interface Rule {
  readonly negate: boolean;
  readonly directoryOnly: boolean;
  readonly pattern: RegExp;
}

/** A glob segment run (`*`, `?`, `**`) as a regular expression over a slash-separated path. */
function globToRegExp(glob: string, anchored: boolean): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*' && glob[i + 1] === '*') {
      // `**/` matches zero or more directories; a trailing `**` everything below.
      if (glob[i + 2] === '/') {
        re += '(?:.*/)?';
        i += 2;
      } else {
        re += '.*';
        i += 1;
      }
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  // A pattern with no slash matches a name at any depth; one with a slash is relative to the root.
  return new RegExp(`^${anchored ? '' : '(?:.*/)?'}${re}$`);
}

export function parseIgnoreFile(text: string): Rule[] {
  const rules: Rule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.trimEnd();
    if (line === '' || line.startsWith('#')) continue;
    const negate = line.startsWith('!');
    if (negate) line = line.slice(1);
    const directoryOnly = line.endsWith('/');
    if (directoryOnly) line = line.slice(0, -1);
    const anchored = line.includes('/');
    if (line.startsWith('/')) line = line.slice(1);
    rules.push({ negate, directoryOnly, pattern: globToRegExp(line, anchored) });
  }
  return rules;
}

/** Whether one path (relative, slash-separated) is ignored by the rules alone; the last matching rule wins. */
function ignoredBy(rules: readonly Rule[], rel: string, isDirectory: boolean): boolean {
  let ignored = false;
  for (const r of rules) {
    if (r.directoryOnly && !isDirectory) continue;
    if (r.pattern.test(rel)) ignored = !r.negate;
  }
  return ignored;
}

/**
 * The files of `files` (relative paths) that the rules keep. As in git, a file under an ignored
 * directory stays out whatever later rules say about the file itself.
 */
export function keptFiles(files: readonly string[], ignoreText: string): string[] {
  const rules = parseIgnoreFile(ignoreText);
  const kept: string[] = [];
  for (const file of files) {
    const parts = file.split('/');
    let out = false;
    for (let i = 1; i < parts.length && !out; i++) out = ignoredBy(rules, parts.slice(0, i).join('/'), true);
    if (!out && !ignoredBy(rules, file, false)) kept.push(file);
  }
  return kept.sort();
}

/** Every file under `root`, relative and slash-separated, without node_modules and .git. */
export function treeFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name === '.git') continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) out.push(path.relative(root, full).split(path.sep).join('/'));
    }
  };
  walk(root);
  return out;
}

/** The deployment zip's files for the tree at `root`, by its own .funcignore. */
export function deploymentFiles(root: string): string[] {
  return keptFiles(treeFiles(root), fs.readFileSync(path.join(root, '.funcignore'), 'utf8'));
}

if (require.main === module) {
  const root = path.resolve(__dirname, '..', '..');
  const files = deploymentFiles(root);
  for (const f of files) console.log(f);
  console.log(`${files.length} files`);
}
