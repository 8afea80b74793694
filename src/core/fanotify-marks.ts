// Which filesystems a fanotify watch of some layer directories must mark, from the mount table:
// the pure half of src/host/layer-watch-fanotify.ts. A layer's subtree spans the filesystem its
// root is on and every mount below it, except those under a skipped path (proc, sys, dev, the
// store), under a `never` path (our own mountpoint) or FUSE mounts (hidden from the view).

/** What the planner needs of a mountinfo line (src/host/mountinfo.ts MountEntry). */
export interface MountLine {
  readonly mountpoint: string;
  readonly fstype: string;
  /** The directory of its filesystem the mount shows. */
  readonly root: string;
  /** "major:minor": one per filesystem. */
  readonly dev: string;
}

/** A layer to watch: its real root (host path) and the root-relative paths it never shows. */
export interface MarkLayer {
  readonly layer: number;
  readonly root: string;
  readonly skip?: readonly string[];
}

/**
 * One filesystem to mark. `mounts`: where it shows in our namespace, as [its directory, mountpoint]
 * pairs, the one closest to its root first (events are named through that one). `mark`: the whole
 * filesystem, or (`dir`) only the fence directory `path`, when no layer spans its filesystem.
 */
export interface FsMark {
  readonly dev: string;
  readonly mark: 'filesystem' | 'dir';
  readonly path: string;
  readonly mounts: readonly (readonly [string, string])[];
}

export interface MarkPlan {
  readonly filesystems: readonly FsMark[];
  /**
   * Per layer, the filesystems its subtree spans: the one its root is on (`at: ''`), then each
   * mount below it, `at` its root-relative mountpoint. A filesystem that cannot be marked leaves
   * that subtree (or, at '', the whole layer) to another watch.
   */
  readonly spans: ReadonlyMap<number, readonly { readonly dev: string; readonly at: string }[]>;
}

const within = (p: string, dir: string) => dir === '/' || p === dir || p.startsWith(dir + '/');
const hostOf = (root: string, rel: string) => (root === '/' ? '/' + rel : root + '/' + rel);

/** The mount a path is on: the last (topmost) mount whose mountpoint is the longest prefix. */
export function mountOf(mounts: readonly MountLine[], path: string): MountLine | undefined {
  let best: MountLine | undefined;
  for (const m of mounts) if (within(path, m.mountpoint) && (!best || m.mountpoint.length >= best.mountpoint.length)) best = m;
  return best;
}

/**
 * Plan the marks for `layers` (and a fence directory). Pure. Mounts are read in mountinfo order,
 * so a later mount on the same mountpoint hides an earlier one.
 */
export function planMarks(mounts: readonly MountLine[], layers: readonly MarkLayer[], never: readonly string[] = [], fence?: string): MarkPlan {
  const top = new Map<string, MountLine>();
  for (const m of mounts) top.set(m.mountpoint, m);
  const visible = [...top.values()];
  const fuse = visible.filter((m) => m.fstype.startsWith('fuse')).map((m) => m.mountpoint);
  const hidden = (p: string) => fuse.some((f) => within(p, f)) || never.some((n) => within(p, n));
  const byDev = new Map<string, MountLine[]>();
  const spans = new Map<number, { dev: string; at: string }[]>();
  const use = (m: MountLine) => {
    const list = byDev.get(m.dev) ?? [];
    if (!list.includes(m)) list.push(m);
    byDev.set(m.dev, list);
  };
  const relOf = (root: string, p: string) => (root === '/' ? p.slice(1) : p.slice(root.length + 1));
  for (const l of layers) {
    const span: { dev: string; at: string }[] = [];
    const at = mountOf(visible, l.root);
    if (at && !at.fstype.startsWith('fuse')) {
      use(at);
      span.push({ dev: at.dev, at: '' });
    }
    const skipped = (l.skip ?? []).map((s) => hostOf(l.root, s));
    for (const m of visible) {
      if (m === at || !within(m.mountpoint, l.root) || m.mountpoint === l.root) continue;
      if (hidden(m.mountpoint) || skipped.some((s) => within(m.mountpoint, s))) continue;
      use(m);
      span.push({ dev: m.dev, at: relOf(l.root, m.mountpoint) });
    }
    spans.set(l.layer, span);
  }
  // Every mount of a marked filesystem found in the layers names its events, shortest root first.
  const filesystems: FsMark[] = [...byDev.entries()].map(([dev, ms]) => {
    const sorted = [...ms].sort((a, b) => a.root.length - b.root.length);
    return { dev, mark: 'filesystem' as const, path: sorted[0]!.mountpoint, mounts: sorted.map((m) => [m.root, m.mountpoint] as const) };
  });
  if (fence !== undefined) {
    const at = mountOf(visible, fence);
    if (at && !byDev.has(at.dev)) filesystems.push({ dev: at.dev, mark: 'dir', path: fence, mounts: [[at.root, at.mountpoint]] });
  }
  return { filesystems, spans };
}
