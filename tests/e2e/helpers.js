const { expect } = require('@playwright/test')
const path = require('path')

const DEMO_PASSWORD = 'Gongzhi-Demo-2026'
const ADMIN_PASSWORD = process.env.E2E_ADMIN_PASSWORD || 'Admin-Pass-2026'
const SHOTS = path.join(__dirname, 'screenshots')

async function login(page, username, password) {
  password = password || (username === 'admin' ? ADMIN_PASSWORD : DEMO_PASSWORD)
  await page.goto('/login')
  await page.getByLabel('用户名').fill(username)
  await page.getByLabel('密码').fill(password)
  await page.getByTestId('login-submit').click()
  await expect(page).not.toHaveURL(/\/login/)
}

// a new browser context per account, so sessions do not mix
async function asUser(browser, username, opts = {}) {
  const context = await browser.newContext(opts)
  const page = await context.newPage()
  const errors = []
  page.on('pageerror', (e) => errors.push(String(e)))
  page.on('console', (m) => { if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(m.text()) })
  await login(page, username)
  page.consoleErrors = errors
  return { context, page }
}

async function shot(page, name) {
  await page.waitForTimeout(300)
  await page.screenshot({ path: path.join(SHOTS, name + '.png'), fullPage: false, animations: 'disabled' })
}

// Element Plus selects render their options in a teleported popper
// the el-form-item whose label is exactly `label`
function field(scope, label) {
  return scope.locator('.el-form-item').filter({ has: scope.page().locator('.el-form-item__label', { hasText: new RegExp('^\\s*' + label + '\\s*$') }) }).first()
}

async function pickOption(page, item, text) {
  await item.locator('.el-select__wrapper').first().click()
  await page.locator('.el-select-dropdown:visible, .el-popper:visible').getByText(text, { exact: true }).first().click()
}

async function pickCascader(page, item, search) {
  await item.locator('.el-cascader').first().click()
  await item.locator('input').first().fill(search)
  await page.locator('.el-cascader__suggestion-item:visible').first().click()
}

async function pickTree(page, item, text) {
  await item.locator('.el-select__wrapper').first().click()
  const input = item.locator('input').first()
  await input.fill(text)
  await page.locator('.el-popper:visible .el-tree-node__content').getByText(text, { exact: true }).first().click()
}

module.exports = { field, login, asUser, shot, pickOption, pickCascader, pickTree, DEMO_PASSWORD, SHOTS, expect }
