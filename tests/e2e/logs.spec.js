// Issue 11: 操作日志 and 登录日志 as separate pages (共 N 条 from the server's total,
// Chinese operation names, filters, a detail dialog, CSV and Excel exports read back),
// and the user page's 最后登录时间 and exports.  Each test makes an account of its
// own and filters by it, so other specs' sign-ins do not move its counts.
const { test, request } = require('@playwright/test')
const zlib = require('zlib')
const { asUser, shot, expect, serverHas, ADMIN_PASSWORD } = require('./helpers')

// ---- xlsx: a zip; the first sheet's rows as {column letter: text} ----
function unzip(buf) {
  let eocd = buf.length - 22
  while (eocd >= 0 && buf.readUInt32LE(eocd) !== 0x06054b50) eocd--
  if (eocd < 0) throw new Error('not a zip')
  const n = buf.readUInt16LE(eocd + 10)
  let p = buf.readUInt32LE(eocd + 16)
  const files = {}
  for (let i = 0; i < n; i++) {
    const method = buf.readUInt16LE(p + 10), csize = buf.readUInt32LE(p + 20)
    const nlen = buf.readUInt16LE(p + 28), xlen = buf.readUInt16LE(p + 30), clen = buf.readUInt16LE(p + 32)
    const local = buf.readUInt32LE(p + 42)
    const name = buf.toString('utf8', p + 46, p + 46 + nlen)
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28)
    const data = buf.subarray(start, start + csize)
    files[name] = method === 8 ? zlib.inflateRawSync(data) : data
    p += 46 + nlen + xlen + clen
  }
  return files
}
function sheetRows(buf) {
  const xml = unzip(buf)['xl/worksheets/sheet1.xml'].toString('utf8')
  return [...xml.matchAll(/<row [^>]*>(.*?)<\/row>/gs)].map((m) => {
    const row = {}
    for (const c of m[1].matchAll(/<c r="([A-Z]+)\d+"([^>]*?)(?:\/>|>(.*?)<\/c>)/gs)) {
      const t = /<t[^>]*>(.*?)<\/t>/s.exec(c[3] || '')
      const v = /<v>(.*?)<\/v>/.exec(c[3] || '')
      row[c[1]] = t ? t[1] : v ? (/ s="/.test(c[2]) ? 'date:' + v[1] : Number(v[1])) : ''
    }
    return row
  })
}
async function download(page, testid) {
  const [d] = await Promise.all([page.waitForEvent('download'), page.getByTestId(testid).click()])
  return { name: d.suggestedFilename(), buf: require('fs').readFileSync(await d.path()) }
}
const pagerTotal = async (page) => Number(/(\d+)/.exec(await page.locator('.el-pagination__total').first().textContent())[1])

// an account of the test's own: created by admin, then signs in twice, fails once,
// and changes its password (one operation of its own)
async function freshAccount(baseURL) {
  const adm = await request.newContext({ baseURL })
  const r = await adm.post('/api/v1/auth/login', { data: { username: 'admin', password: ADMIN_PASSWORD } })
  expect(r.status(), await r.text()).toBe(200)
  const token = (await r.json()).token
  const headers = { Authorization: 'Bearer ' + token }
  const ur = await adm.get('/api/v1/units?q=' + encodeURIComponent('沙柳北路社区'), { headers })
  expect(ur.status(), await ur.text()).toBe(200)
  const units = await ur.json()
  const username = 'e2elog' + Date.now().toString(36)
  const password = 'E2e-Pass-2026x'
  const c = await adm.post('/api/v1/users', { headers, data: { username, display_name: '日志测试', password, roles: ['community_staff'], unit_id: units.items[0].id } })
  expect(c.status()).toBe(201)
  const u = await request.newContext({ baseURL })
  expect((await u.post('/api/v1/auth/login', { data: { username, password: 'wrong-password' } })).status()).toBe(401)
  const ok = await u.post('/api/v1/auth/login', { data: { username, password } })
  expect(ok.status()).toBe(200)
  const t = (await ok.json()).token
  const ch = await u.post('/api/v1/auth/password', { headers: { Authorization: 'Bearer ' + t }, data: { old_password: password, new_password: password + 'y' } })
  expect(ch.status()).toBe(204)
  const again = await u.post('/api/v1/auth/login', { data: { username, password: password + 'y' } })
  expect(again.status()).toBe(200)
  await u.dispose()
  return { adm, headers, username, id: (await c.json()).id }
}

test('登录日志 and 操作日志: totals, Chinese names, detail, CSV and Excel exports', async ({ browser }) => {
  const { page, context } = await asUser(browser, 'admin')
  test.skip(!(await serverHas(page, '/api/v1/audit/export.xlsx')), 'server without the audit exports')
  const { adm, headers, username } = await freshAccount(new URL(page.url()).origin)

  // the login log: the account's failure and two sign-ins, counted by the server
  await page.goto('/logs/logins')
  await page.getByTestId('log-actor').fill(username)
  await page.getByTestId('log-search').click()
  await expect.poll(() => pagerTotal(page)).toBe(3)
  await expect(page.locator('.el-pagination__total')).toContainText('共 3 条')
  const api = await (await adm.get('/api/v1/audit?kind=login&count=true&actor=' + username, { headers })).json()
  expect(api.total).toBe(3)
  const table = page.getByTestId('log-table')
  await expect(table).toContainText('登录失败（密码错误）')
  await expect(table).toContainText('登录')
  await expect(table).not.toContainText('修改密码')
  // the detail dialog
  await page.getByTestId('log-detail').first().click()
  const dialog = page.getByTestId('log-dialog')
  await expect(dialog).toContainText('日志详情')
  await expect(dialog).toContainText(username)
  await shot(page, 'login-log-detail')
  await dialog.getByRole('button', { name: '关闭' }).last().click()
  // Excel: the header and the same three rows, with Chinese action names and Excel dates
  const x = await download(page, 'log-export-xlsx')
  expect(x.name).toBe('login-log.xlsx')
  expect(x.buf.subarray(0, 2).toString()).toBe('PK')
  const rows = sheetRows(x.buf)
  expect(rows.length).toBe(4)
  expect(rows[0].A).toBe('编号')
  expect(rows[0].E).toBe('操作')
  expect(rows.slice(1).map((r) => r.C)).toEqual([username, username, username])
  expect(rows.slice(1).map((r) => r.E).sort()).toEqual(['登录', '登录', '登录失败（密码错误）'].sort())
  for (const r of rows.slice(1)) expect(String(r.B)).toMatch(/^date:4\d{4}\./)
  // CSV: the BOM, the Chinese header, three lines
  const csv = await download(page, 'log-export')
  expect(csv.name).toBe('login-log.csv')
  const text = csv.buf.toString('utf8')
  expect(text.startsWith('\ufeff编号,时间,操作人')).toBe(true)
  expect(text.trim().split('\r\n').length).toBe(4)

  // the operation log: the password change, not the sign-ins
  await page.goto('/logs/operations')
  await page.getByTestId('log-actor').fill(username)
  await page.getByTestId('log-search').click()
  await expect.poll(() => pagerTotal(page)).toBe(1)
  await expect(page.getByTestId('log-table')).toContainText('修改密码')
  await expect(page.getByTestId('log-table')).not.toContainText('登录失败')
  const ox = sheetRows((await download(page, 'log-export-xlsx')).buf)
  expect(ox.length).toBe(2)
  expect(ox[1].E).toBe('修改密码')
  // unfiltered, the page's total is the server's
  await page.getByRole('button', { name: '重置' }).click()
  const ops = await (await adm.get('/api/v1/audit?kind=operation&count=true&limit=1', { headers })).json()
  await expect.poll(() => pagerTotal(page)).toBeGreaterThanOrEqual(ops.total)
  await shot(page, 'operation-log')
  expect(page.consoleErrors).toEqual([])
  await adm.dispose()
  await context.close()
})

test('the user page shows 最后登录时间 and exports the accounts as Excel and CSV', async ({ browser }) => {
  const { page, context } = await asUser(browser, 'admin')
  test.skip(!(await serverHas(page, '/api/v1/users/export.xlsx')), 'server without the user exports')
  const { adm, headers, username } = await freshAccount(new URL(page.url()).origin)
  const me = await (await adm.get('/api/v1/users?username=' + username, { headers })).json()
  const last = me.items[0].last_login_at
  expect(last).toBeTruthy()

  await page.goto('/settings/users')
  const table = page.getByTestId('crud-table')
  await expect(table.locator('th')).toContainText(['最后登录时间'])
  await page.getByTestId('crud-q').fill(username)
  await expect(table.locator('tbody tr')).toHaveCount(1)
  // the time as the console shows times (Shanghai, to the minute)
  const shown = last.slice(0, 16).replace('T', ' ')
  await expect(table.locator('tbody tr').first()).toContainText(shown)
  // the column is on screen at desk width, not scrolled away behind 操作
  const cell = table.locator('tbody tr').first().locator('td', { hasText: shown })
  const box = await cell.boundingBox(), ops = await table.locator('th', { hasText: '操作' }).last().boundingBox()
  expect(box.x + box.width).toBeLessThanOrEqual(ops.x + 1)
  await shot(page, 'users-last-login')
  // both exports, with the table's search
  const x = await download(page, 'crud-export-xlsx')
  expect(x.name).toBe('users.xlsx')
  const rows = sheetRows(x.buf)
  expect(rows.length).toBe(2)
  expect(rows[0].I).toBe('最后登录时间')
  expect(rows[1].B).toBe(username)
  expect(rows[1].D).toBe('社区工作人员')
  expect(rows[1].E).toBe('沙柳北路社区')
  expect(String(rows[1].I)).toMatch(/^date:4\d{4}\./)
  const csv = await download(page, 'crud-export-csv')
  expect(csv.name).toBe('users.csv')
  expect(csv.buf.toString('utf8')).toContain(',' + username + ',日志测试,社区工作人员,沙柳北路社区,')
  expect(page.consoleErrors).toEqual([])
  await adm.dispose()
  await context.close()
})

test('every list page with an export offers both CSV and Excel, and both download', async ({ browser }) => {
  const { page, context } = await asUser(browser, 'admin')
  test.skip(!(await serverHas(page, '/api/v1/orgs/export.xlsx')), 'server without the entity exports')
  const pages = [
    ['/settings/orgs', 'crud-export', 'orgs'],
    ['/settings/users', 'crud-export', 'users'],
    ['/settings/sla', 'crud-export', 'sla-rules'],
    ['/notices', 'crud-export', 'notices'],
    ['/settings/dicts', 'dict-export', 'dict-entries'],
    ['/work-orders', 'export', 'work-orders'],
    ['/logs/operations', 'log-export', 'operation-log'],
    ['/logs/logins', 'log-export', 'login-log'],
  ]
  for (const [path, id, name] of pages) {
    await page.goto(path)
    const csv = page.getByTestId(id === 'export' ? 'export' : id === 'log-export' ? 'log-export' : id + '-csv')
    const xlsx = page.getByTestId(id === 'log-export' ? 'log-export-xlsx' : id + '-xlsx')
    await expect(csv, path).toBeVisible()
    await expect(xlsx, path).toBeVisible()
    const x = await download(page, id === 'log-export' ? 'log-export-xlsx' : id + '-xlsx')
    expect(x.name, path).toBe(name + '.xlsx')
    expect(x.buf.subarray(0, 2).toString(), path).toBe('PK')
    expect(sheetRows(x.buf)[0].A, path).toBeTruthy() // a header row
    const c = await download(page, id === 'export' ? 'export' : id === 'log-export' ? 'log-export' : id + '-csv')
    expect(c.name, path).toBe(name + '.csv')
    expect(c.buf.toString('utf8').startsWith('\ufeff'), path).toBe(true)
  }
  expect(page.consoleErrors).toEqual([])
  await context.close()
})
