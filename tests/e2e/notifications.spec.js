// The notification bell and the phone's 消息 / 待办 pages.  Until the lifecycle engine
// writes notifications, the test writes them with the sqlite3 shell into the running
// server's database (GONGZHI_DB, exported by scripts/run-e2e): the server notices them
// within a second and pushes them over the event stream, so the bell's count changes
// without a reload.
const { test } = require('@playwright/test')
const { execFileSync } = require('child_process')
const { asUser, shot, expect } = require('./helpers')

const PHONE = { viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 }

function dbFile() {
  const u = process.env.GONGZHI_DB || ''
  return u.startsWith('sqlite:') ? u.slice(7) : u
}
function sql(q) {
  return execFileSync('sqlite3', ['-batch', '-cmd', '.timeout 5000', dbFile(), q]).toString().trim()
}
function notify(username, title, woId) {
  return Number(sql(`INSERT INTO notifications (user_id, kind, object_type, object_id, title, body, created_at)
    SELECT id, 'work_order.dispatch', 'work_order', ${Number(woId)}, '${title}', '请及时处理（E2E）',
    CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) FROM users WHERE username = '${username}' RETURNING id;`))
}
function readAll(username) {
  sql(`UPDATE notifications SET read_at = 1 WHERE read_at IS NULL AND user_id = (SELECT id FROM users WHERE username = '${username}');`)
}
// a work order the property company handles (the demo has some), else any
function orderOf(username) {
  return Number(sql(`SELECT coalesce((SELECT w.id FROM work_orders w JOIN users u ON u.org_id = w.handler_org_id
    WHERE u.username = '${username}' ORDER BY w.id LIMIT 1), (SELECT min(id) FROM work_orders), 1);`))
}

test('the bell counts new notifications live and leads to the work order', async ({ browser }) => {
  readAll('wuye')
  const wo = orderOf('wuye')
  const { page, context } = await asUser(browser, 'wuye')
  const bell = page.getByTestId('notice-bell')
  await expect(bell).toBeVisible()
  await expect(page.getByTestId('notice-count').locator('sup')).toBeHidden()
  // written while the page is open: pushed over the event stream
  notify('wuye', 'E2E 新派单一', wo)
  notify('wuye', 'E2E 新派单二', wo)
  await expect(page.getByTestId('notice-count').locator('sup')).toHaveText('2')
  await bell.click()
  const list = page.getByTestId('notice-list')
  await expect(list).toBeVisible()
  await expect(list.getByTestId('notice-item').first()).toContainText('E2E 新派单二') // newest first
  await expect(list).toContainText('E2E 新派单一')
  await shot(page, 'notice-bell')
  await list.getByTestId('notice-item').first().click()
  await expect(page).toHaveURL(new RegExp('/work-orders/' + wo + '$'))
  await expect(page.getByTestId('notice-count').locator('sup')).toHaveText('1')
  await bell.click()
  await page.getByTestId('notice-read-all').click()
  await expect(page.getByTestId('notice-count').locator('sup')).toBeHidden()
  expect(Number(sql(`SELECT count(*) FROM notifications n JOIN users u ON u.id = n.user_id WHERE u.username = 'wuye' AND n.read_at IS NULL;`))).toBe(0)
  expect(page.consoleErrors).toEqual([])
  await context.close()
})

test('the phone shows the messages and the to-do list', async ({ browser }) => {
  readAll('wangge')
  const wo = orderOf('wangge')
  notify('wangge', 'E2E 网格待核查', wo)
  const { page, context } = await asUser(browser, 'wangge', PHONE)
  await page.goto('/m/messages')
  await expect(page.getByTestId('m-notice-count')).toHaveText('1')
  const card = page.getByTestId('m-notice').first()
  await expect(card).toContainText('E2E 网格待核查')
  notify('wangge', 'E2E 网格第二条', wo)
  await expect(page.getByTestId('m-notice').first()).toContainText('E2E 网格第二条')
  await expect(page.getByTestId('m-notice-count')).toHaveText('2')
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375)
  await shot(page, 'phone-notices')
  await page.getByTestId('m-notice').first().click()
  await expect(page).toHaveURL(new RegExp('/m/orders/' + wo + '$'))
  await page.getByTestId('m-nav-todo').click()
  const todo = page.getByTestId('m-todo')
  await expect(todo).toBeVisible()
  // GET /api/v1/todo: its items, or (until the server has it) the empty state
  await expect(todo.getByTestId('m-todo-item').first().or(todo.getByTestId('m-todo-empty'))).toBeVisible()
  await expect(todo.locator('.el-alert')).toHaveCount(0)
  await shot(page, 'phone-todo')
  expect(page.consoleErrors).toEqual([])
  await context.close()
})
