// Fails when a translation key exists in one locale but not the other, or when
// the source uses a literal key that neither locale defines.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import zh from '../src/i18n/zh-CN.js'
import en from '../src/i18n/en.js'

function keys(obj, prefix = '') {
  return Object.entries(obj).flatMap(([k, v]) => (v && typeof v === 'object' ? keys(v, prefix + k + '.') : [prefix + k]))
}
function has(obj, key) {
  // vue-i18n resolves 'a.b.c' by path; keys with dots inside a leaf ('requester.name') are literal
  let cur = obj
  const parts = key.split('.')
  for (let i = 0; i < parts.length; i++) {
    if (cur && typeof cur === 'object' && parts.slice(i).join('.') in cur && typeof cur[parts.slice(i).join('.')] === 'string') return true
    if (!cur || typeof cur !== 'object' || !(parts[i] in cur)) return false
    cur = cur[parts[i]]
  }
  return typeof cur === 'string'
}
function files(dir) {
  return readdirSync(dir).flatMap((f) => { const p = join(dir, f); return statSync(p).isDirectory() ? files(p) : /\.(vue|js)$/.test(f) ? [p] : [] })
}

test('zh-CN and en have the same keys', () => {
  const a = new Set(keys(zh)), b = new Set(keys(en))
  assert.deepEqual([...a].filter((k) => !b.has(k)), [], 'missing in en')
  assert.deepEqual([...b].filter((k) => !a.has(k)), [], 'missing in zh-CN')
})

test('no empty translations', () => {
  for (const [name, m] of [['zh-CN', zh], ['en', en]]) {
    const empty = keys(m).filter((k) => !String(k.split('.').reduce((o, p) => o && o[p], m) ?? 'x').trim())
    assert.deepEqual(empty, [], name)
  }
})

test('every literal key used in the source exists', () => {
  const src = new URL('../src', import.meta.url).pathname
  const missing = []
  const re = /\bt\(\s*'([a-z_]+\.[a-zA-Z0-9_.]+)'\s*[,)]/g
  const re2 = /(?:label|title|hint|group):\s*'([a-z_]+\.[a-z0-9_]+)'/g
  for (const f of files(src)) {
    const text = readFileSync(f, 'utf8')
    for (const r of [re, re2]) for (const m of text.matchAll(r)) if (!has(zh, m[1]) || !has(en, m[1])) missing.push(`${m[1]} (${f.slice(src.length + 1)})`)
  }
  assert.deepEqual([...new Set(missing)], [])
})

// The status, channel, priority, kind and role values come from the server
// (GET /api/v1/meta): tests/e2e/shell.spec.js checks that each has a label in both
// locales against the running server.  The action reasons are still lists here.
test('every reason and satisfaction has a label', async () => {
  const wo = await import('../src/wo.js')
  const need = [...wo.RETURN_REASONS.map((r) => 'reason.' + r), ...wo.SATISFACTION.map((s) => 'satisfaction.' + s)]
  assert.deepEqual(need.filter((k) => !has(zh, k) || !has(en, k)), [])
})
