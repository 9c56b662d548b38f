import { defineStore } from 'pinia'
import { api, setCsrf, ApiError } from '../api.js'

const STAFF = ['admin', 'subdistrict_staff', 'community_staff']
const FIELD = ['grid_worker', 'partner', 'property', 'mediator']
// a phone (or a narrow window): the width at which the desktop console stops being usable
export const PHONE_QUERY = '(max-width: 768px)'
export function isPhone() { return typeof window !== 'undefined' && !!window.matchMedia && window.matchMedia(PHONE_QUERY).matches }

export const useAuth = defineStore('auth', {
  state: () => ({ user: null, loaded: false }),
  getters: {
    perms: (s) => new Set((s.user && s.user.permissions) || []),
    roles: (s) => (s.user && s.user.roles) || [],
  },
  actions: {
    can(p) { return this.perms.has(p) },
    hasRole(r) { return this.roles.includes(r) },
    // the account holds a role that must use a second factor and has none yet: the
    // server lets its session reach only the enrolment page's endpoints
    needsTotp() { return !!(this.user && this.user.totp_required && !this.user.totp_enabled) },
    isStaff() { return this.roles.some((r) => STAFF.includes(r)) },
    // a resident (and nothing more) works only on the phone pages
    residentOnly() { return this.hasRole('resident') && !this.isStaff() && !this.roles.some((r) => FIELD.includes(r)) },
    // grid workers and the handlers out in the field, without a desk role
    fieldWorker() { return !this.isStaff() && this.roles.some((r) => FIELD.includes(r)) },
    async fetchMe() {
      try {
        const me = await api.get('/auth/me')
        if (me.csrf_token) setCsrf(me.csrf_token)
        this.user = me
      } catch (e) {
        if (!(e instanceof ApiError) || e.status !== 401) throw e
        this.user = null
      } finally {
        this.loaded = true
      }
      return this.user
    },
    // second: {totp_code} or {recovery_code} when the server answered totp_required
    async login(username, password, second) {
      const r = await api.post('/auth/login', { username, password, ...(second || {}) })
      setCsrf(r.csrf_token)
      this.user = r.user
      this.loaded = true
      return r.user
    },
    async logout() {
      try { await api.post('/auth/logout') } catch { /* already gone */ }
      this.user = null
      setCsrf('')
    },
    // where an account lands after login
    home() {
      if (this.residentOnly()) return '/m/requests'
      if (this.fieldWorker() && isPhone()) return '/m/tasks'
      if (this.can('stats.read')) return '/dashboard'
      return '/work-orders'
    },
  },
})
