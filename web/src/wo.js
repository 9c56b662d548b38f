// The status, channel and priority values come from the server (stores/meta.js).
export const OPEN = new Set(['new', 'dispatched', 'accepted', 'in_progress', 'returned'])
export const RETURN_REASONS = ['wrong_area', 'unclear_ownership', 'overlapping_duty', 'other']
export const SATISFACTION = ['satisfied', 'basically_satisfied', 'dissatisfied']


// The deadline that matters now, as the server counts overdue: an order not yet
// accepted (new, dispatched, returned) has its accept deadline, an accepted one its
// resolve deadline; a deadline the server says was missed (overdue_deadline) wins.
const UNACCEPTED = new Set(['new', 'dispatched', 'returned'])
export function dueOf(o) {
  if (!OPEN.has(o.status)) return null
  if (o.overdue_deadline === 'resolve' && o.resolve_due_at) return { kind: 'resolve', at: o.resolve_due_at }
  if (o.overdue_deadline === 'accept' && o.accept_due_at) return { kind: 'accept', at: o.accept_due_at }
  if (UNACCEPTED.has(o.status) && o.accept_due_at) return { kind: 'accept', at: o.accept_due_at }
  return o.resolve_due_at ? { kind: 'resolve', at: o.resolve_due_at } : null
}
export function dueClass(o, now = Date.now()) {
  const d = dueOf(o)
  if (!d) return ''
  const ms = new Date(d.at).getTime() - now
  if (o.overdue || ms < 0) return 'due-past'
  if (ms < 24 * 3600 * 1000) return 'due-near'
  return ''
}
export function fmt(ts) {
  if (!ts) return ''
  // server times are +08:00; show them as Shanghai wall time
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(ts)
  return m ? `${m[1]} ${m[2]}` : ts
}
// Deadlines fall at 24:00 Shanghai time; "12-10 00:00" reads like the start of
// the 10th, so show the end of the previous day instead: "12-09 24:00".
export function fmtDue(ts) {
  const s = fmt(ts)
  const m = /^(\d{4})-(\d{2})-(\d{2}) 00:00$/.exec(s)
  if (!m) return s
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3] - 1))
  return d.toISOString().slice(0, 10) + ' 24:00'
}

// A timeline (oldest first) with an older page put in front; an event already there
// is not shown twice.
export function withEarlier(timeline, earlier) {
  const seen = new Set(timeline.map((e) => e.id))
  return [...earlier.filter((e) => !seen.has(e.id)), ...timeline]
}
