// Two-step verification in the console: a fresh admin account turns it on from the
// user menu (QR code and secret, first code, recovery codes), then signs in with a
// code from an "authenticator app" computed here (RFC 6238: HMAC-SHA1, 30 s, 6
// digits), with a recovery code, and turns it off again.
const { test } = require('@playwright/test')
const crypto = require('crypto')
const { expect, shot } = require('./helpers')

const ADMIN_PASSWORD = process.env.E2E_ADMIN_PASSWORD || 'Admin-Pass-2026'
const PASSWORD = 'Totp-Pass-2026'

function base32Decode(s) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  let bits = 0, value = 0
  const out = []
  for (const ch of s.replace(/[\s=]/g, '').toUpperCase()) {
    value = (value << 5) | alphabet.indexOf(ch)
    bits += 5
    if (bits >= 8) { out.push((value >>> (bits - 8)) & 255); bits -= 8 }
  }
  return Buffer.from(out)
}

// the code of a step (RFC 4226 dynamic truncation of HMAC-SHA1 over the counter)
function totp(secret, step) {
  const counter = Buffer.alloc(8)
  counter.writeBigUInt64BE(BigInt(step))
  const h = crypto.createHmac('sha1', base32Decode(secret)).update(counter).digest()
  const o = h[h.length - 1] & 15
  return String((h.readUInt32BE(o) & 0x7fffffff) % 1000000).padStart(6, '0')
}
const nowStep = () => Math.floor(Date.now() / 1000 / 30)

test('RFC 6238 vector for the test\'s own TOTP', () => {
  // Appendix B: T = 59 s, seed "12345678901234567890", 8 digits 94287082 -> 6 digits 287082
  const seed = Buffer.from('12345678901234567890')
  const b32 = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'
  expect(base32Decode(b32).equals(seed)).toBe(true)
  expect(totp(b32, 1)).toBe('287082')
})

test('turn on two-step verification, sign in with a code and a recovery code, turn it off', async ({ browser, request }) => {
  // a fresh admin account, so that the demo accounts other tests use stay as they are
  const login = await request.post('/api/v1/auth/login', { data: { username: 'admin', password: ADMIN_PASSWORD } })
  expect(login.status()).toBe(200)
  const token = (await login.json()).token
  const username = 'totp' + Date.now()
  const created = await request.post('/api/v1/users', {
    headers: { Authorization: 'Bearer ' + token },
    data: { username, display_name: '两步验证测试', password: PASSWORD, roles: ['admin'] },
  })
  expect(created.status()).toBe(201)

  const context = await browser.newContext()
  const page = await context.newPage()
  const errors = []
  page.on('pageerror', (e) => errors.push(String(e)))

  const signIn = async () => {
    await page.goto('/login')
    await page.getByLabel('用户名').fill(username)
    await page.getByLabel('密码').fill(PASSWORD)
    await page.getByTestId('login-submit').click()
  }

  // 1. without a second factor the password is enough
  await signIn()
  await expect(page).toHaveURL(/\/dashboard/)

  // 2. user menu -> two-step verification -> set up
  await page.getByTestId('user-menu').click()
  await page.getByTestId('menu-totp').click()
  await expect(page.getByTestId('totp-status')).toContainText('未开启')
  await page.getByTestId('totp-on').click()
  await expect(page).toHaveURL(/\/totp/)
  await expect(page.getByTestId('totp-qr')).toHaveAttribute('src', /^data:image\/png;base64,/)
  const secretEl = page.getByTestId('totp-secret')
  await expect(secretEl).toHaveAttribute('data-secret', /^[A-Z2-7]{32}$/)
  const secret = await secretEl.getAttribute('data-secret')
  await expect(secretEl).toHaveText(secret.replace(/(.{4})/g, '$1 ').trim())
  await shot(page, 'totp-enrol')

  // a wrong first code is refused, the right one turns it on
  const confirmStep = nowStep()
  await page.getByTestId('totp-code').fill(totp(secret, confirmStep + 5))
  await page.getByTestId('totp-confirm').click()
  await expect(page.locator('.el-form-item__error')).toContainText('验证码错误')
  await page.getByTestId('totp-code').fill(totp(secret, confirmStep))
  await page.getByTestId('totp-confirm').click()
  const list = page.getByTestId('recovery-codes')
  await expect(list.locator('li')).toHaveCount(10)
  const codes = await list.locator('li').allInnerTexts()
  for (const c of codes) expect(c.trim()).toMatch(/^[a-z2-7]{5}-[a-z2-7]{5}$/)
  await page.getByTestId('copy-codes').click()
  await page.getByTestId('totp-done').click()
  await expect(page).toHaveURL(/\/dashboard/)

  // 3. sign out; the password alone now asks for the code
  await page.getByTestId('user-menu').click()
  await page.getByText('退出登录').click()
  await expect(page).toHaveURL(/\/login/)
  await signIn()
  await expect(page.getByTestId('login-code-hint')).toContainText('6 位动态码')
  await expect(page).toHaveURL(/\/login/)
  // the code the confirmation used is spent
  await page.getByTestId('login-code').fill(totp(secret, confirmStep))
  await page.getByTestId('login-submit').click()
  await expect(page.getByTestId('login-error')).toContainText('验证码错误或已使用过')
  // the next step's code (one step of clock drift is accepted)
  await page.getByTestId('login-code').fill(totp(secret, confirmStep + 1))
  await page.getByTestId('login-submit').click()
  await expect(page).toHaveURL(/\/dashboard/)

  // 4. with a recovery code instead
  await page.getByTestId('user-menu').click()
  await page.getByText('退出登录').click()
  await signIn()
  await page.getByTestId('login-use-recovery').click()
  await page.getByTestId('login-code').fill(codes[0].trim())
  await page.getByTestId('login-submit').click()
  await expect(page).toHaveURL(/\/dashboard/)

  // 5. turn it off with the password and another recovery code
  await page.getByTestId('user-menu').click()
  await page.getByTestId('menu-totp').click()
  await expect(page.getByTestId('totp-status')).toContainText('已开启')
  await page.getByTestId('totp-off-password').fill(PASSWORD)
  await page.getByTestId('totp-off-code').fill(codes[1].trim())
  await page.getByTestId('totp-off').click()
  await expect(page.getByText('两步验证已关闭')).toBeVisible()
  await page.getByTestId('user-menu').click()
  await page.getByText('退出登录').click()
  await signIn()
  await expect(page).toHaveURL(/\/dashboard/)

  expect(errors).toEqual([])
  await context.close()
})
