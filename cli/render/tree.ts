// Drawing the world graph: a tree by first parent, where a world with several parents is drawn
// under its first parent and referenced (not repeated) under the others; and Graphviz dot.
import type { World } from '../../src/registry/model.js';

export function renderTree(worlds: readonly World[]): string {
  const byId = new Map(worlds.map((w) => [w.id, w]));
  const kids = new Map<string, World[]>();
  for (const w of worlds) for (const p of w.parents) (kids.get(p) ?? kids.set(p, []).get(p)!).push(w);
  const lines: string[] = [];
  const label = (w: World, under: string) => {
    const extra: string[] = [];
    if (w.parents.length > 1) {
      const others = w.parents.filter((p) => p !== under).map((p) => byId.get(p)?.name ?? p);
      extra.push(w.parents[0] === under ? `also from ${others.join(', ')}` : '');
    }
    if (w.state !== 'active') extra.push(w.state);
    const tail = extra.filter(Boolean).join('; ');
    return w.name + (tail ? `  [${tail}]` : '');
  };
  const draw = (w: World, prefix: string, last: boolean, under: string | undefined, depth: number) => {
    const branch = depth === 0 ? '' : last ? '└── ' : '├── ';
    if (under !== undefined && w.parents[0] !== under) {
      lines.push(prefix + branch + `${w.name}  (see under ${byId.get(w.parents[0]!)?.name ?? w.parents[0]})`);
      return;
    }
    lines.push(prefix + branch + label(w, under ?? ''));
    const children = kids.get(w.id) ?? [];
    const nextPrefix = depth === 0 ? '' : prefix + (last ? '    ' : '│   ');
    children.forEach((c, i) => draw(c, nextPrefix, i === children.length - 1, w.id, depth + 1));
  };
  for (const root of worlds.filter((w) => w.parents.length === 0)) draw(root, '', true, undefined, 0);
  return lines.join('\n') + '\n';
}

export function renderDot(worlds: readonly World[]): string {
  const q = (s: string) => JSON.stringify(s);
  const byId = new Map(worlds.map((w) => [w.id, w]));
  const lines = ['digraph worlds {', '  rankdir=TB;', '  node [shape=box];'];
  for (const w of worlds) lines.push(`  ${q(w.id)} [label=${q(w.name)}${w.base ? ', style=dashed' : ''}];`);
  for (const w of worlds) {
    w.parents.forEach((p, i) => {
      if (byId.has(p)) lines.push(`  ${q(p)} -> ${q(w.id)}${w.parents.length > 1 ? ` [label=${q(String(i + 1))}]` : ''};`);
    });
  }
  lines.push('}');
  return lines.join('\n') + '\n';
}
