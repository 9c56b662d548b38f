import { defineStore } from 'pinia'
import { api } from '../api.js'

// What the server declares once and the console must not copy: every entity's
// enumerated values (work-order status, channel, priority, organisation kinds …) and
// the roles, from GET /api/v1/meta.  The labels stay in i18n; the values (and their
// order) are the server's, so a value the server adds or drops shows up here.
export const useMeta = defineStore('meta', {
  state: () => ({ enums: {}, roles: [], loaded: null }),
  getters: {
    roleNames: (s) => s.roles.map((r) => r.name),
  },
  actions: {
    load() {
      if (!this.loaded) {
        this.loaded = api.get('/meta').then((r) => { this.enums = r.enums || {}; this.roles = r.roles || [] })
          .catch((e) => { this.loaded = null; throw e })
      }
      return this.loaded
    },
    // the values of entity.field, [] until loaded
    values(entity, field) { return (this.enums[entity] && this.enums[entity][field]) || [] },
  },
})
