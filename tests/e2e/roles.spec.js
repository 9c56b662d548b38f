// Issue 11, "Done when": each demo role, at a desk (1366×768) and on a phone
// (390×844), signs in, lands on the right page and walks every entry of its menu.
// On every page: no page error, no failed API request, no English error text, no
// dash or bare id where a name belongs (the name columns of tables and the names of
// the order detail). Where the role has the dashboard, the 已超时 card equals the
// list behind it; where it has the list, its Excel export is a real workbook.
const { test } = require('@playwright/test')
const fs = require('fs')
const { login, expect } = require('./helpers')

const DESK = { viewport: { width: 1366, height: 768 } }
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 }

// where each account lands; field roles on a phone get the phone pages, residents
// get nothing else anywhere; `dash`: the account reads statistics (its home is the
// dashboard); `list`: it reads the work-order list (and exports it)
const ROLES = [
  { user: 'admin', role: 'admin', desk: '/dashboard', phone: '/dashboard', dash: true, list: true },
  { user: 'jiedao', role: 'subdistrict_staff', desk: '/dashboard', phone: '/dashboard', dash: true, list: true },
  { user: 'shequ', role: 'community_staff', desk: '/dashboard', phone: '/dashboard', dash: true, list: true },
  { user: 'wangge', role: 'grid_worker', desk: '/dashboard', phone: '/m/tasks', dash: true, list: true },
  { user: 'hehuoren', role: 'partner', desk: '/dashboard', phone: '/m/tasks', dash: true, list: true },
  { user: 'wuye', role: 'property', desk: '/dashboard', phone: '/m/tasks', dash: true, list: true },
  { user: 'tiaojie', role: 'mediator', desk: '/work-orders', phone: '/m/tasks', dash: false, list: true },
  { user: 'jumin', role: 'resident', desk: '/m/requests', phone: '/m/requests', dash: false, list: false },
]

// columns and description labels that hold the name of a unit, category, organisation
// or person: never "-", "—" or "#12" (an id where the name was not found)
const NAME_TITLE = /所属单位|所属组织|分类|承办单位|办理单位|处理单位|创建人|操作人|发布单位|上级单位|^账号$|^用户$/
const DASH = /^(-|—|–|#\d+)$/
// columns whose rows always have the name (an order's unit and category, an
// organisation's unit); accounts may lack a unit (admin), so not on the users page
const NEVER_EMPTY = /^(所属单位|问题分类)$/
// an API message (English) that reached the screen
const ENGLISH_ERROR = /\b(not found|forbidden|permission|denied|invalid|is required|failed|error|unauthori[sz]ed|must be|cannot|unknown|internal|too many|conflict|not allowed)\b/i

// Watches one page for the whole walk: page errors, API answers >= 400, error
// messages (Element Plus toasts vanish after 3 s: a MutationObserver keeps them).
function watch(page) {
  const w = { errors: [], failed: [], pending: new Set() }
  page.on('pageerror', (e) => w.errors.push(String(e)))
  page.on('response', (r) => {
    const u = new URL(r.url())
    if (u.pathname.startsWith('/api/') && r.status() >= 400) w.failed.push(`${r.request().method()} ${u.pathname}${u.search} → ${r.status()} (on ${new URL(page.url()).pathname})`)
  })
  const isApi = (r) => { const p = new URL(r.url()).pathname; return p.startsWith('/api/') && p !== '/api/v1/events' }
  page.on('request', (r) => { if (isApi(r)) w.pending.add(r) })
  page.on('requestfinished', (r) => w.pending.delete(r))
  page.on('requestfailed', (r) => w.pending.delete(r))
  return w
}

async function installToastRecorder(context) {
  await context.addInitScript(() => {
    window.__gzToasts = []
    const seen = new WeakSet()
    const rec = () => document.querySelectorAll('.el-message, .el-notification, .el-message-box').forEach((el) => {
      if (seen.has(el)) return
      seen.add(el)
      const text = el.textContent.trim()
      window.__gzToasts.push({ cls: el.className, text, path: location.pathname })
    })
    new MutationObserver(rec).observe(document, { childList: true, subtree: true })
  })
}

// the page has settled: no API request in flight for 400 ms, no loading mask
async function settle(page, w) {
  const t0 = Date.now()
  let quiet = 0
  while (Date.now() - t0 < 15000) {
    await page.waitForTimeout(100)
    const loading = await page.locator('.el-loading-mask:visible').count()
    quiet = w.pending.size === 0 && loading === 0 ? quiet + 100 : 0
    if (quiet >= 400) return
  }
}

// everything wrong with the page as it is now
async function problems(page, w, where) {
  const out = []
  for (const e of w.errors.splice(0)) out.push(`${where}: page error ${e}`)
  for (const f of w.failed.splice(0)) out.push(`${where}: API ${f}`)
  const toasts = await page.evaluate(() => window.__gzToasts.splice(0))
  for (const m of toasts) {
    if (/el-message--error|el-message--warning/.test(m.cls)) out.push(`${where}: error message "${m.text}" (on ${m.path})`)
    else if (ENGLISH_ERROR.test(m.text)) out.push(`${where}: English message "${m.text}" (on ${m.path})`)
  }
  // field errors, alerts and empty-state texts in English
  const notes = await page.locator('.el-form-item__error:visible, .el-alert:visible, .el-empty__description:visible, .el-result:visible').allTextContents()
  for (const n of notes) if (/[A-Za-z]{4,}/.test(n) && ENGLISH_ERROR.test(n)) out.push(`${where}: English text "${n.trim()}"`)
  const body = await page.locator('body').innerText()
  const m = ENGLISH_ERROR.exec(body)
  if (m) out.push(`${where}: English error text near "${body.slice(Math.max(0, m.index - 40), m.index + 60).replace(/\s+/g, ' ')}"`)
  if (/\b(undefined|null|NaN|\[object Object\])\b/.test(body)) out.push(`${where}: "${/\b(undefined|null|NaN|\[object Object\])\b/.exec(body)[1]}" on the page`)
  // name columns of every visible table
  const bad = await page.locator('.el-table:visible').evaluateAll((tables, src) => {
    const re = new RegExp(src.title), dash = new RegExp(src.dash), never = new RegExp(src.never)
    const found = []
    for (const t of tables) {
      const heads = [...t.querySelectorAll('.el-table__header-wrapper thead tr:last-child th')].map((th) => th.textContent.trim())
      const cols = heads.map((h, i) => (re.test(h) && !/ID|编码|编号/.test(h) ? i : -1)).filter((i) => i >= 0)
      for (const tr of t.querySelectorAll('.el-table__body-wrapper tbody tr.el-table__row')) {
        const tds = tr.querySelectorAll(':scope > td')
        for (const i of cols) {
          const v = tds[i] ? tds[i].textContent.trim() : ''
          if (dash.test(v) || (!v && never.test(heads[i]) && !src.users)) found.push(`${heads[i]}="${v}" in row "${tr.textContent.trim().slice(0, 60)}"`)
        }
      }
    }
    return found
  }, { title: NAME_TITLE.source, dash: DASH.source, never: NEVER_EMPTY.source, users: path(page) === '/settings/users' })
  for (const b of bad) out.push(`${where}: ${b}`)
  // the names of a detail page
  const desc = await page.locator('.el-descriptions:visible').evaluateAll((ds, src) => {
    const re = new RegExp(src.title), dash = new RegExp(src.dash)
    const found = []
    for (const d of ds) for (const l of d.querySelectorAll('.el-descriptions__label')) {
      const label = l.textContent.trim()
      const c = l.nextElementSibling
      const v = c ? c.textContent.trim() : ''
      if (re.test(label) && (dash.test(v) || (/所属单位|分类/.test(label) && !v))) found.push(`${label}="${v}"`)
    }
    return found
  }, { title: NAME_TITLE.source, dash: DASH.source })
  for (const b of desc) out.push(`${where}: detail ${b}`)
  // the phone lists: number · category, then the place
  const items = await page.locator('[data-testid^="m-order-"]:visible').evaluateAll((els) => els.map((e) => [...e.querySelectorAll('.muted')].slice(0, 2).map((x) => x.textContent.trim())))
  for (const [line1, line2] of items) {
    if (/·\s*(-|—)?$/.test(line1 || '')) out.push(`${where}: phone list item without a category "${line1}"`)
    if (!line2 || DASH.test(line2)) out.push(`${where}: phone list item without a place "${line2}"`)
  }
  return out
}

function path(page) { return new URL(page.url()).pathname }

// the desktop menu's entries: [sub-menu title or null, entry title]
async function deskEntries(page) {
  return page.locator('[data-testid="side-menu"]:visible').first().evaluate((menu) => [...menu.querySelectorAll('li.el-menu-item')].map((li) => {
    const sub = li.closest('li.el-sub-menu')
    return [sub ? sub.querySelector('.el-sub-menu__title').textContent.trim() : null, li.textContent.trim()]
  }))
}

async function openDeskEntry(page, [group, title], narrow) {
  if (narrow) {
    await page.getByTestId('menu-toggle').click()
    await expect(page.locator('[data-testid="side-menu"]:visible')).toBeVisible()
  }
  const menu = page.locator('[data-testid="side-menu"]:visible').first()
  let scope = menu
  if (group) {
    const sub = menu.locator('li.el-sub-menu').filter({ has: page.locator('.el-sub-menu__title', { hasText: group }) }).first()
    if (!(await sub.evaluate((el) => el.classList.contains('is-opened')))) await sub.locator('.el-sub-menu__title').click()
    scope = sub
  }
  await scope.locator('li.el-menu-item').filter({ hasText: new RegExp('^\\s*' + title + '\\s*$') }).first().click()
}

async function total(page) {
  await expect(page.getByTestId('total')).toHaveText(/\d+/)
  return Number(/(\d+)/.exec(await page.getByTestId('total').textContent())[1])
}

// every count card of the dashboard equals the list behind it (its click-through);
// 已超时 also equals the API's overdue=true total for the same account
async function checkCards(page, w, where) {
  await expect(page.getByTestId('stat-overdue').locator('.num')).toHaveText(/^\d+$/)
  const keys = await page.locator('[data-testid^="stat-"].link').evaluateAll((els) => els.map((e) => e.dataset.testid.slice(5)))
  expect(keys).toEqual(expect.arrayContaining(['to_dispatch', 'to_accept', 'handling', 'overdue']))
  const cards = {}
  for (const k of keys) {
    await expect(page.getByTestId('stat-' + k).locator('.num')).toHaveText(/^\d+$/)
    const n = Number(await page.getByTestId('stat-' + k).locator('.num').textContent())
    cards[k] = n
    if (k === 'overdue') {
      const api = (await (await page.request.get('/api/v1/work-orders?limit=1&count=true&overdue=true')).json()).total
      expect(n, `${where}: 已超时 card vs. the API's overdue=true total`).toBe(api)
    }
    await page.getByTestId('stat-' + k).click()
    await expect(page).toHaveURL(/\/work-orders\?/)
    if (k === 'overdue') await expect(page.getByTestId('f-overdue')).toHaveClass(/is-checked/)
    await expect.poll(() => total(page), { message: `${where}: card ${k} vs. its list` }).toBe(n)
    await settle(page, w)
    await page.goBack()
    await expect(page).toHaveURL(/\/dashboard/)
    await expect(page.getByTestId('stat-overdue').locator('.num')).toHaveText(/^\d+$/)
  }
  return cards
}

// the list's Excel export: a download whose file is a zip (an .xlsx)
async function checkExport(page, where) {
  const btn = page.getByTestId('export-xlsx')
  await expect(btn, `${where}: the list offers .xlsx`).toBeVisible()
  const [dl] = await Promise.all([page.waitForEvent('download'), btn.click()])
  expect(dl.suggestedFilename()).toMatch(/\.xlsx$/)
  const buf = fs.readFileSync(await dl.path())
  expect(buf.length).toBeGreaterThan(100)
  expect(buf.subarray(0, 2).toString(), `${where}: the .xlsx is a zip`).toBe('PK')
}

for (const r of ROLES) {
  for (const size of ['desk', 'phone']) {
    test(`${r.role} (${r.user}) on a ${size}: landing, every menu entry, names, counts, export`, async ({ browser }) => {
      test.setTimeout(240_000)
      const context = await browser.newContext(size === 'desk' ? DESK : PHONE)
      await installToastRecorder(context)
      const page = await context.newPage()
      await login(page, r.user)
      const w = watch(page)
      const home = r[size]
      await expect(page).toHaveURL(new RegExp(home.replace(/\//g, '\\/') + '$'))
      await settle(page, w)
      const mobile = home.startsWith('/m/')
      const narrow = size === 'phone' && !mobile
      const found = await problems(page, w, `${size} ${home}`)
      if (mobile) await expect(page.getByTestId('side-menu')).toHaveCount(0)
      else await expect(page.getByTestId('menu-toggle')).toBeVisible()
      if (size === 'phone') expect(await page.evaluate(() => document.documentElement.scrollWidth), 'no sideways scrolling').toBeLessThanOrEqual(390)

      const visited = []
      if (mobile) {
        const links = await page.locator('.m-nav a').allTextContents()
        for (const text of links) {
          await page.goto(home)
          await settle(page, w)
          await page.locator('.m-nav a').filter({ hasText: text.replace(/\d+$/, '') }).first().click()
          await settle(page, w)
          visited.push(path(page))
          expect(path(page), `${text} is a phone page`).toMatch(/^\/m\//)
          found.push(...(await problems(page, w, `${size} ${text} ${path(page)}`)))
          if (size === 'phone') expect(await page.evaluate(() => document.documentElement.scrollWidth), `${text}: no sideways scrolling`).toBeLessThanOrEqual(390)
        }
        // the role's work: open an order from its list
        await page.goto(home)
        const first = page.locator('[data-testid^="m-order-"]').first()
        if (r.role === 'resident' && !(await first.count())) {
          await page.goto('/m/tasks') // a resident has no task list: back to its own
          await expect(page).toHaveURL(/\/m\/requests/)
        }
        if (r.role !== 'resident') {
          await page.locator('.tabs').getByText('全部', { exact: true }).click()
          await settle(page, w)
        }
        if (await first.count()) {
          // the deadline of the list item (after its creation time) is the detail's
          const times = (await first.textContent()).match(/\d{4}-\d{2}-\d{2} \d{2}:\d{2}/g) || []
          await first.click()
          await expect(page).toHaveURL(/\/m\/orders\/\d+$/)
          await expect(page.getByTestId('wo-status')).toBeVisible()
          if (times.length > 1) await expect(page.getByTestId('wo-due'), 'the deadline of the list is the detail\'s').toContainText(times[1])
          await settle(page, w)
          visited.push(path(page))
          found.push(...(await problems(page, w, `${size} order ${path(page)}`)))
        }
        // the to-do list's deadline is the order's
        await page.goto('/m/todo')
        await settle(page, w)
        const item = page.getByTestId('m-todo-item').first()
        if (await item.count()) {
          const due = /\d{4}-\d{2}-\d{2} \d{2}:\d{2}/.exec(await item.textContent())
          await item.click()
          await expect(page).toHaveURL(/\/m\/orders\/\d+$/)
          await expect(page.getByTestId('wo-status')).toBeVisible()
          if (due && (await page.getByTestId('wo-due').count())) await expect(page.getByTestId('wo-due'), 'the to-do deadline is the order\'s').toContainText(due[0])
          await settle(page, w)
          found.push(...(await problems(page, w, `${size} to-do order ${path(page)}`)))
        }
        // 个人中心 from the account menu of the header
        await page.locator('.m-user').click()
        await page.getByTestId('m-profile').click()
        await expect(page).toHaveURL(/\/m\/profile$/)
        await expect(page.getByTestId('profile-name')).not.toBeEmpty()
        await settle(page, w)
        visited.push(path(page))
        found.push(...(await problems(page, w, `${size} profile`)))
        // desktop addresses lead back to the phone pages
        for (const p of ['/dashboard', '/work-orders', '/settings/users']) {
          await page.goto(p)
          await expect(page).toHaveURL(/\/m\//)
          await expect(page.getByTestId('side-menu')).toHaveCount(0)
        }
      } else {
        const entries = await (async () => { if (narrow) await page.getByTestId('menu-toggle').click(); const e = await deskEntries(page); if (narrow) await page.keyboard.press('Escape'); return e })()
        expect(entries.length).toBeGreaterThan(0)
        for (const e of entries) {
          await page.goto(home)
          await settle(page, w)
          await openDeskEntry(page, e, narrow)
          await settle(page, w)
          const p = path(page)
          visited.push(p)
          expect(p, `${e[1]} did not land on the login page`).not.toMatch(/^\/login/)
          await expect(page.locator('body'), `${e[1]}: not the not-found page`).not.toContainText('页面不存在')
          found.push(...(await problems(page, w, `${size} ${e[1]} ${p}`)))
          if (p.startsWith('/m/')) continue
          if (size === 'phone') expect(await page.evaluate(() => document.documentElement.scrollWidth), `${e[1]}: no sideways scrolling`).toBeLessThanOrEqual(390)
        }
        // 个人中心 from the account menu of the header
        await page.goto(home)
        await settle(page, w)
        await page.getByTestId('user-menu').click()
        await page.getByTestId('menu-profile').click()
        await expect(page).toHaveURL(/\/profile$/)
        await expect(page.getByTestId('profile-name')).not.toBeEmpty()
        await settle(page, w)
        visited.push(path(page))
        found.push(...(await problems(page, w, `${size} profile`)))
        if (r.list) {
          await page.goto('/work-orders')
          await expect(page.getByTestId('wo-table')).toBeVisible()
          await settle(page, w)
          const row = page.getByTestId('wo-table').locator('.el-table__body-wrapper tbody tr.el-table__row').first()
          if (await row.count()) {
            const due = (await row.locator('[data-due]').count()) ? /\d{2}-\d{2} \d{2}:\d{2}/.exec(await row.locator('[data-due]').textContent())[0] : null
            await row.locator('td').nth(2).click()
            await expect(page).toHaveURL(/\/work-orders\/\d+$/)
            await expect(page.getByTestId('wo-status')).toBeVisible()
            if (due) await expect(page.getByTestId('wo-due'), 'the deadline of the list is the detail\'s').toContainText(due)
            await settle(page, w)
            visited.push(path(page))
            found.push(...(await problems(page, w, `${size} order ${path(page)}`)))
          }
          await page.goto('/work-orders')
          await settle(page, w)
          await checkExport(page, `${size} ${r.user}`)
          found.push(...(await problems(page, w, `${size} export`)))
        }
      }
      if (r.dash && home === '/dashboard') {
        await page.goto('/dashboard')
        await settle(page, w)
        const cards = await checkCards(page, w, `${size} ${r.user}`)
        test.info().annotations.push({ type: 'cards', description: JSON.stringify(cards) })
        found.push(...(await problems(page, w, `${size} dashboard cards`)))
      }
      test.info().annotations.push({ type: 'visited', description: visited.join(' ') })
      expect(found, `problems found by ${r.user} (${size}); visited ${visited.join(' ')}`).toEqual([])
      await context.close()
    })
  }
}
