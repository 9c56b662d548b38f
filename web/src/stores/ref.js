import { defineStore } from 'pinia'
import { api } from '../api.js'
import { i18n } from '../i18n/index.js'
import { useAuth } from './auth.js'

// The units as nested children (sorted as the server sorts: sort, then name).
export function buildTree(list) {
  const nodes = new Map(list.map((u) => [u.id, { ...u, children: [] }]))
  const roots = []
  for (const n of nodes.values()) {
    const p = n.parent_id && nodes.get(n.parent_id)
    if (p) p.children.push(n)
    else roots.push(n)
  }
  const order = (a, b) => (a.sort || 0) - (b.sort || 0) || a.id - b.id
  const sortAll = (ns) => { ns.sort(order); ns.forEach((n) => { if (n.children.length) sortAll(n.children); else delete n.children }) }
  sortAll(roots)
  return roots
}

// Reference data shared by pages: categories, organisations, the unit tree.
export const useRef = defineStore('ref', {
  // unitsReady: the unit list has been read (an empty tree then means none in scope)
  state: () => ({ categories: [], orgs: [], unitTree: [], unitsReady: false, loadedCats: null, loadedOrgs: null, loadedUnits: null }),
  getters: {
    catMap: (s) => Object.fromEntries(s.categories.map((c) => [c.code, c])),
    orgMap: (s) => Object.fromEntries(s.orgs.map((o) => [o.id, o])),
    unitMap: (s) => {
      const m = {}
      const walk = (ns) => ns.forEach((n) => { m[n.id] = n; walk(n.children || []) })
      walk(s.unitTree)
      return m
    },
    categoryTree: (s) => {
      const en = i18n.global.locale.value === 'en'
      const nodes = {}
      const roots = []
      const sorted = [...s.categories].filter((c) => !c.disabled).sort((a, b) => (a.sort - b.sort) || a.code.localeCompare(b.code))
      sorted.forEach((c) => { nodes[c.code] = { value: c.code, label: (en && c.name_en) || c.name, children: [] } })
      sorted.forEach((c) => {
        const n = nodes[c.code]
        if (c.parent_code && nodes[c.parent_code]) nodes[c.parent_code].children.push(n)
        else roots.push(n)
      })
      const prune = (ns) => ns.forEach((n) => { if (!n.children.length) delete n.children; else prune(n.children) })
      prune(roots)
      return roots
    },
  },
  actions: {
    loadCategories() {
      if (!this.loadedCats) this.loadedCats = api.all('/dicts/category').then((r) => { this.categories = r }).catch((e) => { this.loadedCats = null; throw e })
      return this.loadedCats
    },
    loadOrgs() {
      const auth = useAuth()
      if (!auth.can('orgs.read')) return Promise.resolve()
      if (!this.loadedOrgs) this.loadedOrgs = api.all('/orgs').then((r) => { this.orgs = r }).catch((e) => { this.loadedOrgs = null; throw e })
      return this.loadedOrgs
    },
    loadUnits() {
      const auth = useAuth()
      if (!auth.can('units.read')) return Promise.resolve()
      if (!this.loadedUnits) {
        // GET /units answers the units the account may see: the tree is built from
        // them, rooted wherever the account's reach begins (no 404 for any role)
        this.loadedUnits = api.all('/units').then((list) => { this.unitTree = buildTree(list); this.unitsReady = true })
          .catch((e) => { this.loadedUnits = null; this.unitTree = []; throw e })
      }
      return this.loadedUnits
    },
    reset() { this.categories = []; this.orgs = []; this.unitTree = []; this.unitsReady = false; this.loadedCats = this.loadedOrgs = this.loadedUnits = null },
    catName(code) {
      const c = this.catMap[code]
      if (!c) return code || ''
      return (i18n.global.locale.value === 'en' && c.name_en) || c.name
    },
    catPath(code) {
      // codes are hierarchical: 01 / 0101 / 010101
      const out = []
      let c = this.catMap[code]
      while (c) { out.unshift(c.code); c = c.parent_code ? this.catMap[c.parent_code] : null }
      return out.length ? out : (code ? [code] : [])
    },
    orgName(id) { return (this.orgMap[id] && this.orgMap[id].name) || (id ? '#' + id : '') },
    unitName(id) { return (this.unitMap[id] && this.unitMap[id].name) || '' },
  },
})
