const { test } = require('@playwright/test')
const { asUser, shot, expect, field, pickOption, pickCascader } = require('./helpers')

async function statuses(page) {
  return page.getByTestId('wo-table').locator('[data-status]').evaluateAll((els) => els.map((e) => e.dataset.status))
}
async function total(page) {
  const txt = await page.getByTestId('total').textContent()
  return Number(/(\d+)/.exec(txt)[1])
}

test('list filters, paging and export', async ({ browser }) => {
  const { page, context } = await asUser(browser, 'jiedao')
  await page.goto('/work-orders')
  await expect(page.getByTestId('wo-table').locator('[data-status]').first()).toBeVisible()
  const all = await total(page)
  expect(all).toBeGreaterThan(100)
  await shot(page, 'work-order-list')

  // keyset paging behind the page numbers
  const first = await page.getByTestId('wo-table').locator('tbody tr').first().textContent()
  await page.getByTestId('pager').locator('.btn-next').click()
  await expect(page.getByTestId('wo-table').locator('tbody tr').first()).not.toHaveText(first)
  await page.getByTestId('pager').locator('.btn-prev').click()
  await expect(page.getByTestId('wo-table').locator('tbody tr').first()).toHaveText(first)

  // status: closed only
  const form = page.locator('.query-form')
  await pickOption(page, field(form, '状态'), '已关闭')
  await page.keyboard.press('Escape')
  await page.getByTestId('search').click()
  await expect.poll(async () => [...new Set(await statuses(page))]).toEqual(['closed'])
  const closed = await total(page)
  expect(closed).toBeLessThan(all)

  // category subtree
  await pickCascader(page, field(form, '问题分类'), '供水')
  await page.getByTestId('search').click()
  await expect.poll(() => total(page)).toBeLessThan(closed)
  const cats = await page.getByTestId('wo-table').locator('[data-col="category"]').allTextContents()
  for (const c of cats) expect(['停水', '水压不足', '水质问题', '供水']).toContain(c.trim())

  // export of the filtered set: same filters in the link, CSV with BOM and Chinese headers
  const href = await page.getByTestId('export').getAttribute('href')
  expect(href).toContain('status=closed')
  expect(href).toContain('category_code=0101')
  const res = await page.request.get(href)
  expect(res.status()).toBe(200)
  expect(res.headers()['content-type']).toContain('csv')
  const body = await res.body()
  expect(body.subarray(0, 3).toString('hex')).toBe('efbbbf')
  const lines = body.toString('utf8').trim().split(/\r?\n/)
  expect(lines[0]).toMatch(/工单|编号/)
  expect(lines.length - 1).toBe(await total(page))
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export').click()])
  expect(download.suggestedFilename()).toMatch(/\.csv$/)

  // full text, after reset
  await page.getByRole('button', { name: '重置' }).click()
  await page.getByTestId('f-q').fill('停水')
  await page.getByTestId('search').click()
  await expect.poll(() => total(page)).toBeLessThan(all)
  const titles = await page.getByTestId('wo-table').locator('tbody tr').allTextContents()
  expect(titles.some((x) => x.includes('停水'))).toBeTruthy()

  // overdue switch
  await page.getByRole('button', { name: '重置' }).click()
  await page.getByTestId('f-overdue').click()
  await page.getByTestId('search').click()
  await expect.poll(() => total(page)).toBeLessThan(all)
  expect(page.consoleErrors).toEqual([])
  await context.close()
})

test('dashboard shows counts, rates and charts', async ({ browser }) => {
  const { page, context } = await asUser(browser, 'jiedao')
  await expect(page).toHaveURL(/\/dashboard/)
  for (const k of ['to_dispatch', 'to_accept', 'handling', 'overdue']) await expect(page.getByTestId('stat-' + k).locator('.num')).toHaveText(/^\d+$/)
  await expect(page.getByTestId('rate-response_rate').locator('.num')).toHaveText(/%|—/)
  await expect(page.locator('canvas')).toHaveCount(5)
  await expect(page.getByTestId('overdue-table')).toBeVisible()
  await page.waitForTimeout(800)
  await shot(page, 'dashboard')
  expect(page.consoleErrors).toEqual([])
  await context.close()
})

test('settings pages open for admin', async ({ browser }) => {
  const { page, context } = await asUser(browser, 'admin')
  await page.goto('/settings/units')
  await expect(page.getByTestId('unit-tree')).toContainText('河东区')
  for (const [path, text] of [['/settings/orgs', '天津鸿润物业服务有限公司'], ['/settings/users', 'shequ'], ['/settings/sla', '特急']]) {
    await page.goto(path)
    await expect(page.getByTestId('crud-table')).toContainText(text)
  }
  await page.goto('/settings/dicts')
  await expect(page.getByTestId('dict-tree')).toContainText('物业管理')
  await page.goto('/settings/calendar')
  await expect(page.locator('[data-date="2026-10-01"]')).toHaveClass(/hol/)
  await page.goto('/settings/api-keys')
  await page.getByTestId('crud-create').click()
  await page.getByTestId('entity-form').getByLabel('名称').fill('e2e-' + Date.now())
  await page.getByTestId('e-submit').click()
  await expect(page.getByTestId('api-key')).toHaveValue(/^gzk_/)
  await page.goto('/settings/audit')
  await page.getByLabel('操作人').fill('shequ')
  await page.getByTestId('log-search').click()
  await expect(page.getByTestId('log-table')).toContainText('登录')
  await page.getByTestId('audit-verify').click()
  await expect(page.getByText(/哈希链完整/)).toBeVisible()
  expect(page.consoleErrors).toEqual([])
  await context.close()
})

// The search box of the settings lists asks the server (q=) instead of filtering the
// 50 rows on the page: a row that is not on the first page is found too.
test('settings list search asks the server', async ({ browser }) => {
  const { page, context } = await asUser(browser, 'admin')
  await page.goto('/settings/orgs')
  await expect(page.getByTestId('crud-table')).toContainText('天津鸿润物业服务有限公司')
  // the oldest organisation: with the newest first, it is not among the first rows
  const all = await page.request.get('/api/v1/orgs?limit=500')
  const items = (await all.json()).items
  const oldest = items[items.length - 1].name
  const [req] = await Promise.all([
    page.waitForRequest((r) => r.url().includes('/api/v1/orgs?') && r.url().includes('q=' + encodeURIComponent(oldest))),
    page.getByTestId('crud-q').fill(oldest),
  ])
  expect(req.url()).toMatch(/limit=\d+/)
  await expect(page.getByTestId('crud-table')).toContainText(oldest)
  await expect(page.getByTestId('crud-table').locator('tbody tr')).toHaveCount(1)
  expect(page.consoleErrors).toEqual([])
  await context.close()
})
