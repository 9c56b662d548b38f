// Page numbers over the server's keyset lists.  The server pages by cursor (the
// `next_cursor` of one page opens the next) and counts on request (`count=true` →
// `total`); the console shows RuoYi's pager: 共 N 条, page sizes, page numbers and
// 前往.  Jumping to page k needs the cursor that ends page k-1: the cursors met on
// the way are kept, and a page never seen is reached from the furthest known one in
// steps of up to 500 rows (every page size divides 500, so each step ends on a page
// boundary).  A new filter or page size starts over.
import { reactive } from 'vue'

export const PAGE_SIZES = [10, 20, 50, 100]
const STEP = 500

// fetch({limit, cursor, count}) → {items, next_cursor, total?}
export function useKeysetPager(fetch, { size = 20, counted = true } = {}) {
  const s = reactive({ page: 1, size, total: null, rows: [], loading: false, hasNext: false, known: 1 })
  let cursors = [null] // cursors[i] opens page i + 1
  let seq = 0

  async function cursorOf(page) {
    if (page <= cursors.length) return cursors[page - 1]
    let at = cursors.length // cursors[at - 1] is known
    let cur = cursors[at - 1]
    while (at < page) {
      const rows = Math.min(STEP, (page - at) * s.size)
      const r = await fetch({ limit: rows, cursor: cur, light: true })
      if (!r.next_cursor) return undefined
      cur = r.next_cursor
      at += rows / s.size
      cursors[at - 1] = cur
    }
    return cur
  }

  async function go(page) {
    const mine = ++seq
    s.loading = true
    try {
      const cur = await cursorOf(page)
      if (mine !== seq) return
      if (cur === undefined) { s.loading = false; return go(Math.max(1, cursors.length)) }
      const r = await fetch({ limit: s.size, cursor: cur, count: counted && (page === 1 || s.total === null) })
      if (mine !== seq) return
      s.rows = r.items
      s.page = page
      s.hasNext = !!r.next_cursor
      if (r.next_cursor) cursors[page] = r.next_cursor
      if (r.total !== undefined && r.total !== null) s.total = r.total
      s.known = cursors.length
    } finally {
      if (mine === seq) s.loading = false
    }
  }
  // a new filter: back to page 1 and count again
  function restart() { cursors = [null]; s.total = null; return go(1) }
  function setSize(n) { s.size = n; return restart() }
  const reload = () => go(s.page)
  return { state: s, go, restart, setSize, reload }
}
