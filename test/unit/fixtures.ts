/**
 * Where the tests find the repository's files: from a bundled test (out/test/unit/<dir>/) or from
 * the repository root as the working directory. The one lookup every unit test uses.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The repository root: the folder holding package.json and test/fixtures. */
export function repoRoot(): string {
  const candidates = [resolve(__dirname, '../../..'), resolve(__dirname, '../../../..'), process.cwd()];
  const root = candidates.find((d) => existsSync(join(d, 'package.json')) && existsSync(join(d, 'test', 'fixtures')));
  if (!root) {
    throw new Error(`repository root not found (looked in ${candidates.join(', ')})`);
  }
  return root;
}

/** The path of a file or folder under test/fixtures. */
export function fixturePath(...parts: string[]): string {
  return join(repoRoot(), 'test', 'fixtures', ...parts);
}

/** The text of a file under test/fixtures. */
export function fixtureText(...parts: string[]): string {
  return readFileSync(fixturePath(...parts), 'utf8');
}
