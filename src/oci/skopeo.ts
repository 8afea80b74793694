// The registry client: skopeo (Debian package `skopeo`), which speaks the OCI distribution
// protocol, auth, TLS and retries — worldos speaks none of it itself. `copy` moves an image
// between an OCI layout directory and a registry reference. execa is imported on first use: every
// worldctl command would pay for loading it otherwise.

/** A failed copy: skopeo's own message, or that skopeo is not installed. */
export class SkopeoError extends Error {
  constructor(message: string, readonly missing: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SkopeoError';
  }
}

/**
 * A registry reference as skopeo takes it: `docker://HOST/REPO:TAG` for a bare `HOST/REPO:TAG`;
 * references with a transport (`docker://`, `oci:`, `dir:`...) are passed as they are.
 */
export function transportRef(ref: string): string {
  return TRANSPORTS.some((t) => ref.startsWith(t)) ? ref : `docker://${ref}`;
}

const TRANSPORTS = ['docker://', 'oci:', 'oci-archive:', 'dir:', 'docker-archive:', 'containers-storage:', 'docker-daemon:'];

/** The tag of a reference (`latest` when it names none). */
export function tagOf(ref: string): string {
  const last = ref.slice(ref.lastIndexOf('/') + 1);
  const at = last.indexOf('@');
  if (at >= 0) return 'latest';
  const colon = last.lastIndexOf(':');
  return colon >= 0 ? last.slice(colon + 1) : 'latest';
}

/** The repository's last path component, without tag or digest (a default world name). */
export function repoNameOf(ref: string): string {
  const last = ref.replace(/^[a-z-]+:\/\//, '').split('/').pop() ?? ref;
  return last.replace(/[@:].*$/, '');
}

/** Options: `tlsVerify: false` for a plain-HTTP registry (e.g. one on 127.0.0.1). */
export interface CopyOptions {
  readonly tlsVerify?: boolean;
}

/** skopeo copy SRC DST (transport-qualified). */
export async function skopeoCopy(src: string, dst: string, opts: CopyOptions = {}): Promise<void> {
  const tls = opts.tlsVerify === false ? ['--src-tls-verify=false', '--dest-tls-verify=false'] : [];
  const { execa } = await import('execa');
  try {
    await execa('skopeo', ['copy', '--quiet', ...tls, src, dst], { stdin: 'ignore', all: true });
  } catch (e) {
    const err = e as { code?: string; all?: string; shortMessage?: string };
    if (err.code === 'ENOENT') throw new SkopeoError('skopeo is not installed', true, { cause: e });
    throw new SkopeoError(`skopeo copy ${src} ${dst} failed: ${(err.all ?? err.shortMessage ?? String(e)).trim()}`, false, { cause: e });
  }
}
