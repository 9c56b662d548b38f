import { defineStore } from 'pinia'
import { api } from '../api.js'

// What this server offers, from its OpenAPI document: the console shows a button
// (Excel export, reveal) only when the route behind it exists, so it works with a
// server that has not got it yet.  The document also says which roles reach which
// permission (x-roles, x-permission): the roles page lists that.
export const useCaps = defineStore('caps', {
  state: () => ({ paths: {}, loaded: null }),
  actions: {
    load() {
      if (!this.loaded) {
        this.loaded = api.get('/openapi.json').then((d) => { this.paths = (d && d.paths) || {} })
          .catch((e) => { this.loaded = null; throw e })
      }
      return this.loaded
    },
    // has('get', '/work-orders/export.xlsx')
    // a concrete path matches a templated one: /dicts/category/export.csv is the
    // document's /api/v1/dicts/{type}/export.csv
    has(method, path) {
      const m = method.toLowerCase()
      const p = this.paths['/api/v1' + path]
      if (p) return !!p[m]
      const want = ('/api/v1' + path).split('/')
      return Object.entries(this.paths).some(([k, ops]) => {
        const parts = k.split('/')
        return ops && ops[m] && parts.length === want.length && parts.every((x, i) => x === want[i] || (/^\{.+\}$/.test(x) && !/\./.test(want[i])))
      })
    },
    // role → [{perm, summaries}] over every route
    rolePermissions() {
      const out = {}
      for (const ops of Object.values(this.paths)) {
        for (const op of Object.values(ops)) {
          if (!op || !op['x-permission']) continue
          for (const role of op['x-roles'] || []) {
            const m = (out[role] = out[role] || {})
            ;(m[op['x-permission']] = m[op['x-permission']] || []).push(op.summary || '')
          }
        }
      }
      return out
    },
  },
})
