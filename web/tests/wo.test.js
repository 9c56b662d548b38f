import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fmt, fmtDue, dueClass, dueOf, withEarlier } from '../src/wo.js'

test('times are shown as Shanghai wall time', () => {
  assert.equal(fmt('2026-11-28T14:05:00.123+08:00'), '2026-11-28 14:05')
  assert.equal(fmt(null), '')
})
test('a midnight deadline is the end of the previous day', () => {
  assert.equal(fmtDue('2026-12-10T00:00:00+08:00'), '2026-12-09 24:00')
  assert.equal(fmtDue('2026-01-01T00:00:00+08:00'), '2025-12-31 24:00')
  assert.equal(fmtDue('2026-12-10T11:30:00+08:00'), '2026-12-10 11:30')
})
test('deadline highlighting', () => {
  const now = Date.parse('2026-12-02T12:00:00+08:00')
  const o = (status, due, extra = {}) => ({ status, accept_due_at: due, resolve_due_at: due, overdue: false, ...extra })
  assert.equal(dueClass(o('accepted', '2026-12-01T00:00:00+08:00'), now), 'due-past')
  assert.equal(dueClass(o('accepted', '2026-12-02T20:00:00+08:00'), now), 'due-near')
  assert.equal(dueClass(o('accepted', '2026-12-09T00:00:00+08:00'), now), '')
  assert.equal(dueClass(o('closed', '2026-12-01T00:00:00+08:00'), now), '')
  assert.equal(dueOf(o('dispatched', '2026-12-02T20:00:00+08:00')).kind, 'accept')
})
test('an older timeline page goes in front, nothing twice', () => {
  const ev = (id) => ({ id })
  assert.deepEqual(withEarlier([ev(5), ev(6)], [ev(3), ev(4)]).map((e) => e.id), [3, 4, 5, 6])
  assert.deepEqual(withEarlier([ev(4), ev(5)], [ev(3), ev(4)]).map((e) => e.id), [3, 4, 5])
  assert.deepEqual(withEarlier([ev(1)], []).map((e) => e.id), [1])
})

test('the deadline shown is the one the server counts overdue by', () => {
  const base = { accept_due_at: '2026-12-01T10:00:00+08:00', resolve_due_at: '2026-12-09T00:00:00+08:00' }
  assert.equal(dueOf({ ...base, status: 'new' }).kind, 'accept')
  assert.equal(dueOf({ ...base, status: 'returned' }).kind, 'accept')
  assert.equal(dueOf({ ...base, status: 'in_progress' }).kind, 'resolve')
  assert.equal(dueOf({ ...base, status: 'dispatched', overdue_deadline: 'resolve' }).kind, 'resolve')
  assert.equal(dueOf({ ...base, status: 'closed' }), null)
})
