import { test } from 'node:test'
import assert from 'node:assert/strict'
import { score100, periodRange, rankRows } from '../src/lib/dash.js'

test('the composite score is shown out of 100 whichever way the server sends it', () => {
  assert.equal(score100(0.9182), 91.8)
  assert.equal(score100(91.82), 91.8)
  assert.equal(score100(null), null)
})
test('periods start on the first day, in Shanghai time', () => {
  const now = Date.parse('2026-12-07T17:30:00Z') // 01:30 on the 8th in Shanghai
  assert.deepEqual(periodRange('month', now), { created_from: '2026-12-01' })
  assert.deepEqual(periodRange('year', now), { created_from: '2026-01-01' })
  assert.deepEqual(periodRange('all', now), { created_from: '2026-01-01' })
  assert.deepEqual(periodRange('all', Date.parse('2026-03-10T04:00:00Z')), { created_from: '2025-04-01' })
})
test('rankings put units with few orders after the rest and mark them', () => {
  const rows = [{ key: 1, total: 3, score: 0.99 }, { key: 2, total: 40, score: 0.8 }, { key: 3, total: 12, score: 0.9 }, { key: 4, total: 50, score: null }]
  const r = rankRows(rows)
  assert.deepEqual(r.map((x) => x.key), [3, 2, 1])
  assert.deepEqual(r.map((x) => x.few), [false, false, true])
})
