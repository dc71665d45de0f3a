// The one rounding rule in JavaScript (server/rounding.py says it in Python): parts that are
// rounded one by one still add up to their rounded total. Its own module so that the screens'
// figures (dom.js) load without the walk clock.

/**
 * Whole `step`s for each non-negative integer value, summing to the total rounded half up:
 * each part rounded down, then the missing steps to the largest remainders (ties: the larger
 * value, then the first). The parts always add up to the total (server/rounding.py).
 * @param {number[]} values
 * @param {number} step
 * @returns {number[]}
 */
export function roundParts(values, step) {
  const total = Math.floor((values.reduce((a, b) => a + b, 0) + Math.floor(step / 2)) / step);
  const floors = values.map((v) => Math.floor(v / step));
  const missing = total - floors.reduce((a, b) => a + b, 0);
  const order = values.map((_, i) => i).sort((a, b) => (values[b] % step) - (values[a] % step) || values[b] - values[a] || a - b);
  for (const index of order.slice(0, missing)) floors[index] += 1;
  return floors;
}
