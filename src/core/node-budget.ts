// The values a node budget may take (worldfs nodes=, worldctl create --nodes, a world's nodes=""
// in worlds.xml): one rule for the three. What the budget does: fs/README.md, "The node budget".

/** Whether `n` is a node budget worldfs takes: 0 (no bound), or 1,024 to 2^30 nodes. */
export function isNodeBudget(n: number): boolean {
  return Number.isInteger(n) && (n === 0 || (n >= 1024 && n <= 2 ** 30));
}

/** A node budget written as decimal digits (an option's or a flag's value), or undefined if `text` is none. */
export function nodeBudgetOf(text: string): number | undefined {
  if (!/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  return isNodeBudget(n) ? n : undefined;
}

/** What a node budget must be, for error messages. */
export const NODE_BUDGET_RANGE = `0 (no bound) or a whole number of nodes from 1024 to ${2 ** 30}`;
