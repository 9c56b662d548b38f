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
  await page.addStyleTag({ content: '.el-message, .el-notification { display: none !important; }' })
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

// the phone's full-screen category picker: search by name, take the first match
async function pickCategory(page, text) {
  await page.getByTestId('m-category').click()
  const picker = page.getByTestId('category-picker')
  await picker.getByTestId('cat-search').fill(text)
  await picker.getByTestId('cat-option').filter({ hasText: text }).first().click()
  await expect(page.getByTestId('m-category')).toContainText(text)
}

// the server's OpenAPI document lists the path (a route newer than some servers)
async function serverHas(page, path, method = 'get') {
  const res = await page.request.get('/api/v1/openapi.json')
  const doc = await res.json()
  return !!(doc.paths[path] && doc.paths[path][method])
}

// a small solid PNG (a stand-in for a camera photo)
function makePng(w = 240, h = 160, rgb = [64, 140, 90]) {
  const zlib = require('zlib')
  const crcTable = Array.from({ length: 256 }, (_, n) => { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; return c >>> 0 })
  const crc = (buf) => { let c = 0xffffffff; for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0 }
  const chunk = (type, data) => { const len = Buffer.alloc(4); len.writeUInt32BE(data.length); const td = Buffer.concat([Buffer.from(type), data]); const c = Buffer.alloc(4); c.writeUInt32BE(crc(td)); return Buffer.concat([len, td, c]) }
  const ihdr = Buffer.alloc(13); ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4); ihdr[8] = 8; ihdr[9] = 2
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(w * 3).map((_, i) => rgb[i % 3] + ((i / 3) % w > w / 2 ? 40 : 0))])
  const raw = Buffer.concat(Array.from({ length: h }, () => row))
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))])
}

module.exports = { makePng, field, login, asUser, shot, pickOption, pickCascader, pickTree, pickCategory, serverHas, DEMO_PASSWORD, ADMIN_PASSWORD, SHOTS, expect }
