const { test } = require('@playwright/test')
const { asUser, login, expect } = require('./helpers')

const MENUS = {
  admin: { has: ['首页', '工单管理', '系统设置', '单位管理', '组织管理', '用户管理', '角色管理', '字典管理', '时限规则', '节假日日历', '接口密钥', '日志管理', '操作日志', '登录日志', '审计日志'], not: ['手机端'] },
  jiedao: { has: ['首页', '工单管理', '系统设置', '单位管理', '组织管理', '用户管理'], not: ['字典管理', '接口密钥', '时限规则', '审计日志'] },
  shequ: { has: ['首页', '工单管理', '单位管理', '组织管理', '用户管理'], not: ['字典管理', '接口密钥', '节假日日历'] },
  wangge: { has: ['首页', '工单管理', '组织管理', '手机端'], not: ['用户管理', '字典管理', '接口密钥'] },
  wuye: { has: ['首页', '工单管理', '手机端'], not: ['用户管理', '字典管理', '接口密钥', '操作日志'] },
  tiaojie: { has: ['工单管理'], not: ['首页', '用户管理', '字典管理'] },
}

for (const [user, want] of Object.entries(MENUS)) {
  test(`menu of ${user}`, async ({ browser }) => {
    const { page, context } = await asUser(browser, user)
    const menu = page.getByTestId('side-menu')
    await expect(menu).toBeVisible()
    // open the settings group so its items render
    for (const group of ['系统设置', '日志管理']) if (await menu.getByText(group).count()) await menu.getByText(group).click()
    for (const m of want.has) await expect(menu.getByText(m, { exact: true }).first()).toBeVisible()
    for (const m of want.not) await expect(menu.getByText(m, { exact: true })).toHaveCount(0)
    expect(page.consoleErrors).toEqual([])
    await context.close()
  })
}

test('resident lands on the phone pages', async ({ browser }) => {
  const { page, context } = await asUser(browser, 'jumin')
  await expect(page).toHaveURL(/\/m\/requests/)
  await expect(page.locator('.m-nav')).toContainText('我的诉求')
  await context.close()
})

test('wrong password shows the message', async ({ page }) => {
  await page.goto('/login')
  await page.getByLabel('用户名').fill('shequ2')
  await page.getByLabel('密码').fill('Not-The-Password-1')
  await page.getByTestId('login-submit').click()
  await expect(page.getByTestId('login-error')).toContainText('用户名或密码错误')
})

test('lockout message after five wrong passwords', async ({ page }) => {
  const name = 'locktest' + Date.now()
  await page.goto('/login')
  await page.getByLabel('用户名').fill(name)
  for (let i = 0; i < 5; i++) {
    await page.getByLabel('密码').fill('Wrong-Pass-' + i)
    await page.getByTestId('login-submit').click()
    await expect(page.getByTestId('login-error')).toBeVisible()
    await page.waitForTimeout(100)
  }
  await page.getByLabel('密码').fill('Wrong-Pass-x')
  await page.getByTestId('login-submit').click()
  await expect(page.getByTestId('login-error')).toContainText('锁定')
  await expect(page.getByTestId('login-error')).toContainText('分钟')
})

test('session expiry returns to login, then back to the page', async ({ browser }) => {
  const { page, context } = await asUser(browser, 'shequ')
  await page.goto('/work-orders?status=closed')
  await expect(page.getByTestId('wo-table')).toBeVisible()
  await context.clearCookies()
  await page.getByTestId('search').click()
  await expect(page).toHaveURL(/\/login\?/)
  await expect(page.getByTestId('login-notice')).toContainText('登录已过期')
  await page.getByLabel('用户名').fill('shequ')
  await page.getByLabel('密码').fill('Gongzhi-Demo-2026')
  await page.getByTestId('login-submit').click()
  await expect(page).toHaveURL(/\/work-orders\?status=closed/)
  await context.close()
})

test('language switch to English and back', async ({ browser }) => {
  const { page, context } = await asUser(browser, 'jiedao')
  await page.getByRole('button', { name: '语言' }).click()
  await page.getByRole('menuitem', { name: 'English' }).click()
  await expect(page.getByTestId('side-menu')).toContainText('Work orders')
  await page.reload()
  await expect(page.getByTestId('side-menu')).toContainText('Work orders')
  await page.getByRole('button', { name: 'Language' }).click()
  await page.getByRole('menuitem', { name: '中文' }).click()
  await expect(page.getByTestId('side-menu')).toContainText('工单管理')
  await context.close()
})

test('a field error is shown at its field', async ({ browser }) => {
  const { page, context } = await asUser(browser, 'shequ')
  await page.goto('/settings/orgs')
  await page.getByTestId('crud-create').click()
  const form = page.getByTestId('entity-form')
  await form.getByLabel('名称').fill('测试组织' + Date.now())
  await form.getByLabel('类型').click()
  await page.locator('.el-select-dropdown:visible').getByText('企业', { exact: true }).click()
  await form.getByLabel('统一社会信用代码').fill('911201023004821600')
  await page.getByTestId('e-submit').click()
  const item = form.locator('[data-field="credit_code"]')
  // in Chinese, naming what is wrong (the server's English text is not shown)
  await expect(item.locator('.el-form-item__error')).toContainText('统一社会信用代码不正确')
  await expect(item.locator('.el-form-item__error')).not.toContainText('credit code')
  // and gone as soon as the field is edited
  await form.getByLabel('统一社会信用代码').fill('91120102300482160')
  await expect(item.locator('.el-form-item__error')).toHaveCount(0)
  await context.close()
})

// The enumerated values are the server's (GET /api/v1/meta), not copies in the
// console: every one of them must have a label in both locales, or a page would show
// a raw code.
test('every value the server declares has a label', async ({ browser }) => {
  const { page, context } = await asUser(browser, 'admin')
  const res = await page.request.get('/api/v1/meta')
  expect(res.status()).toBe(200)
  const meta = await res.json()
  const zh = (await import('../../web/src/i18n/zh-CN.js')).default
  const en = (await import('../../web/src/i18n/en.js')).default
  const prefix = { 'work_order.status': 'status', 'work_order.channel': 'channel', 'work_order.priority': 'priority', 'sla_rule.priority': 'priority', 'org.kind': 'org_kind', 'unit.kind': 'unit_kind', 'user.roles': 'role' }
  const missing = []
  for (const [key, group] of Object.entries(prefix)) {
    const [ent, field] = key.split('.')
    const values = (meta.enums[ent] || {})[field] || []
    expect(values.length, key).toBeGreaterThan(0)
    for (const v of values) for (const [name, m] of [['zh-CN', zh], ['en', en]]) if (!(m[group] && m[group][v])) missing.push(`${name} ${group}.${v}`)
  }
  expect(missing).toEqual([])
  expect(meta.roles.map((r) => r.name)).toEqual(meta.enums.user.roles)
  await context.close()
})
