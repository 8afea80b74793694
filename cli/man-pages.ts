// The manual pages as files: { 'worldctl.1': text, 'worldfs.1': text } for the checkout at `root`
// (its README.md and package.json). Used by scripts/gen-man.mjs and by the test that checks them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { USAGE } from '../fs/options.js';
import { worldctlManPage, worldfsManPage } from './man.js';
import { buildProgram } from './program.js';

export function manPages(root: string): Record<string, string> {
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  const program = buildProgram({ stdout: () => {}, stderr: () => {}, env: {} });
  return {
    'worldctl.1': worldctlManPage(program, version),
    'worldfs.1': worldfsManPage(USAGE, readFileSync(join(root, 'README.md'), 'utf8'), version),
  };
}
