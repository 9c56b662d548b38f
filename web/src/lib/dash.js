// Dashboard arithmetic, kept apart from the page so that it can be tested.

// Units with fewer orders than this in the period are ranked but marked (few orders
// say little about a unit).
export const MIN_SAMPLE = 10

// The composite score as points out of 100.  The statistics have sent it as a
// fraction (0.9182); a server that already sends points (91.8) is taken as it is.
export function score100(v) {
  if (v === null || v === undefined || Number.isNaN(Number(v))) return null
  const n = Number(v)
  return +(n <= 1 ? n * 100 : n).toFixed(1)
}

const shanghaiDay = (ms) => new Date(ms).toLocaleDateString('sv-SE', { timeZone: 'Asia/Shanghai' })

// The period's created_from (inclusive, a Shanghai date); the end is today.
export function periodRange(period, now = Date.now()) {
  const d = shanghaiDay(now)
  if (period === 'month') return { created_from: d.slice(0, 8) + '01' }
  if (period === 'year') return { created_from: d.slice(0, 5) + '01-01' }
  // the last twelve months: from the first of the month eleven months back
  const [y, m] = d.split('-').map(Number)
  const start = new Date(Date.UTC(y, m - 1 - 11, 1))
  return { created_from: start.toISOString().slice(0, 10) }
}

// The ranking: rows with a score, best first, the top ten; `few` marks a small sample
// (the server's too_few when it says so: it then sends no score, and the row is left
// out; otherwise fewer than `min` orders).
export const sampleOf = (r) => r.sample_size ?? r.total ?? 0
export function rankRows(rows, min = MIN_SAMPLE) {
  return [...rows].filter((r) => r.score !== null && r.score !== undefined)
    .map((r) => ({ ...r, few: r.too_few ?? sampleOf(r) < min }))
    .sort((a, b) => (a.few - b.few) || (b.score - a.score))
    .slice(0, 10)
}
