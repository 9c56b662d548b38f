// Turns Playwright's JSON report into TAP lines and the "N passed, N failed" line.
const fs = require('fs')
const file = process.argv[2]
let report
try { report = JSON.parse(fs.readFileSync(file, 'utf8')) } catch (e) {
  report = { suites: [], errors: [{ message: 'playwright produced no report (' + e.message + ')' }] }
}
const results = []
// extra results from the caller: "ok:name" or "fail:name"
for (const a of process.argv.slice(3)) {
  const m = /^(ok|fail):(.*)$/.exec(a)
  if (m) results.push({ name: m[2], ok: m[1] === 'ok' })
}
function walk(suite, prefix) {
  const name = suite.title && !suite.title.endsWith('.js') ? prefix + suite.title + ' › ' : prefix
  for (const s of suite.specs || []) {
    for (const t of s.tests || []) {
      const last = t.results[t.results.length - 1] || {}
      const ok = t.status === 'expected' || t.status === 'flaky'
      const skipped = t.status === 'skipped'
      results.push({ name: `${(s.file || '').replace(/\.spec\.js$/, '')}: ${name}${s.title}`, ok, skipped, error: last.error && last.error.message })
    }
  }
  for (const c of suite.suites || []) walk(c, name)
}
for (const s of report.suites || []) walk(s, '')
for (const e of report.errors || []) results.push({ name: 'global: ' + (e.message || '').split('\n')[0], ok: false })
let pass = 0, fail = 0
console.log('1..' + results.length)
results.forEach((r, i) => {
  if (r.skipped) { console.log(`ok ${i + 1} - ${r.name} # SKIP`); return }
  if (r.ok) pass++; else fail++
  console.log(`${r.ok ? 'ok' : 'not ok'} ${i + 1} - ${r.name}`)
  if (!r.ok && r.error) console.log(r.error.replace(/\x1b\[[0-9;]*m/g, '').split('\n').slice(0, 6).map((l) => '# ' + l).join('\n'))
})
console.log(`${pass} passed, ${fail} failed`)
process.exit(fail || !results.length ? 1 : 0)
