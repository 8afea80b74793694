// The one rule for node budgets (src/core/node-budget.ts), as worldfs's nodes= and worldctl create
// --nodes read it from text.
import { describe, expect, it } from 'vitest';
import { isNodeBudget, nodeBudgetOf } from '../../../../src/core/node-budget.js';

describe('nodeBudgetOf', () => {
  it.for(['0', '1024', '131072', String(2 ** 30), '01024'])('takes %s', (text) => {
    expect(nodeBudgetOf(text)).toBe(Number(text));
  });

  it.for(['', '1', '1023', String(2 ** 30 + 1), '-1024', '1e4', '0x400', ' 1024', '1024 ', '1024.0', 'many'])('refuses %j', (text) => {
    expect(nodeBudgetOf(text)).toBeUndefined();
  });

  it('agrees with isNodeBudget on every number it takes', () => {
    for (const n of [0, 1, 1023, 1024, 2 ** 30, 2 ** 30 + 1]) expect(nodeBudgetOf(String(n)) !== undefined).toBe(isNodeBudget(n));
  });
});
