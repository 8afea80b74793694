// Build step (after tsc): the manual pages worldctl(1) and worldfs(1) into dist/man/, generated
// from the commander program and from worldfs's usage text plus the README (cli/man.ts), so they
// cannot drift from the code. package.json's "man" field installs them (npm link, npm install -g).
// test/integration/worldctl-surface.test.ts regenerates them and compares.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { manPages } = await import(join(root, 'dist', 'cli', 'man-pages.js'));
const out = join(root, 'dist', 'man');
mkdirSync(out, { recursive: true });
for (const [file, text] of Object.entries(manPages(root))) writeFileSync(join(out, file), text);
