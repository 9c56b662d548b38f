// The one colour per work-order status, used by the status tags, the dashboard pie
// and its legend, and the dashboard cards: a status looks the same everywhere.
// The status values themselves come from the server (GET /api/v1/meta).
export const STATUS_COLORS = {
  new: '#409eff', // blue: filed, waiting for dispatch
  returned: '#f56c6c', // red: sent back, must be dispatched again
  dispatched: '#7b61ff', // violet: waiting for the handler to accept
  accepted: '#13a8a8', // teal: being handled
  in_progress: '#e6a23c', // amber: being handled
  resolved: '#67c23a', // green: done, to verify
  verified: '#2f9e44', // dark green: verified, to call back
  closed: '#909399', // grey: finished
  cancelled: '#c0c4cc', // light grey
  merged: '#b37feb', // lavender
}
const FALLBACK = '#909399'
export const statusColor = (s) => STATUS_COLORS[s] || FALLBACK

// The tag's inline style: the colour as text and border on a pale fill of itself.
export function statusStyle(s) {
  const c = statusColor(s)
  return { color: c, borderColor: c + '66', backgroundColor: c + '14' }
}

// The dashboard's groups of statuses (cards and the list filters behind them).
export const STATUS_GROUPS = {
  to_dispatch: ['new', 'returned'],
  to_accept: ['dispatched'],
  handling: ['accepted', 'in_progress'],
}
export const OPEN_STATUSES = ['new', 'returned', 'dispatched', 'accepted', 'in_progress']
