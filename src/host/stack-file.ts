// The stack= file of a worldfs daemon: the layer stack it switches to on SIGUSR1 (a merged world's
// view becoming an alias of its ancestor's). Written by worldctl, read by fs/main.ts.

export interface StackFile {
  readonly lowerdirs: readonly string[];
  readonly upperdir: string;
  readonly workdir: string;
  readonly seenlog?: string;
  readonly prune?: readonly string[];
}
