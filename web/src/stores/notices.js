// The account's notifications: the unread count and the recent ones, kept live from
// the server's event stream (GET /api/v1/events, Server-Sent Events).  EventSource
// reconnects by itself after a dropped connection (sending Last-Event-ID, so nothing
// is missed); when the server refused the stream (logged out, too many streams) it
// stops, and we try again after a pause while someone is signed in.
import { defineStore } from 'pinia'
import { api } from '../api.js'

const RECENT = 20

export const useNotices = defineStore('notices', {
  state: () => ({ items: [], unread: 0, loaded: false, live: false }),
  actions: {
    async load() {
      const r = await api.get('/notifications', { limit: RECENT })
      this.items = r.items
      this.unread = r.unread
      this.loaded = true
    },
    start() {
      if (this._es || typeof EventSource === 'undefined') return
      this._stopped = false
      const es = new EventSource('/api/v1/events')
      this._es = es
      let first = true
      es.addEventListener('open', () => {
        this.live = true
        // after a reconnect by hand, what arrived meanwhile is in the inbox (the
        // first open follows the page's own load; EventSource's own reconnects
        // resume from Last-Event-ID)
        if (!first || this._reopened) this.load().catch(() => {})
        first = false
        this._reopened = false
      })
      es.addEventListener('notification', (ev) => {
        let n
        try { n = JSON.parse(ev.data) } catch { return }
        if (this.items.some((x) => x.id === n.id)) return
        this.items = [n, ...this.items].slice(0, RECENT)
        if (!n.read) this.unread++
      })
      es.addEventListener('error', () => {
        this.live = false
        if (es.readyState !== EventSource.CLOSED) return // reconnecting by itself
        this._es = null
        if (!this._stopped) this._retry = setTimeout(() => { this._reopened = true; this.start() }, 10000)
      })
    },
    stop() {
      this._stopped = true
      clearTimeout(this._retry)
      if (this._es) this._es.close()
      this._es = null
      this.live = false
      this.items = []
      this.unread = 0
      this.loaded = false
    },
    async markRead(ids) {
      const fresh = ids.filter((id) => this.items.some((x) => x.id === id && !x.read))
      await api.post('/notifications/read', { ids })
      this.items = this.items.map((x) => (ids.includes(x.id) ? { ...x, read: true } : x))
      this.unread = Math.max(0, this.unread - fresh.length)
    },
    async markAll() {
      await api.post('/notifications/read', { all: true })
      this.items = this.items.map((x) => ({ ...x, read: true }))
      this.unread = 0
    },
  },
})

// Where a notification leads: its object's page, or null.
export function noticeLink(n, mobile) {
  if (n.object_type === 'work_order' && n.object_id) return (mobile ? '/m/orders/' : '/work-orders/') + n.object_id
  return null
}
