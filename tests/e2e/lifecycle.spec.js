const { test } = require('@playwright/test')
const { makePng, asUser, shot, expect, field, pickCascader, pickTree, pickOption, DEMO_PASSWORD } = require('./helpers')

async function expectStatus(page, zh) {
  await expect(page.getByTestId('wo-status')).toHaveText(zh)
}
async function act(page, action) {
  await page.locator(`[data-testid="wo-actions"] [data-action="${action}"]`).click()
  await expect(page.getByTestId('action-form')).toBeVisible()
}
async function submitAction(page) {
  await page.getByTestId('a-submit').click()
  await expect(page.getByTestId('action-form')).toBeHidden()
}
async function actions(page) {
  return page.locator('[data-testid="wo-actions"] [data-action]').evaluateAll((els) => els.map((e) => e.dataset.action))
}

test('work order from filing to closing, across three accounts', async ({ browser }) => {
  const title = '楼道灯不亮 E2E ' + Date.now()
  // 1. community staff files it
  const s = await asUser(browser, 'shequ')
  let page = s.page
  // an open water outage in the same community, through the API: the duplicate hint
  // must show it before the new order is submitted
  const login = await page.request.post('/api/v1/auth/login', { data: { username: 'shequ', password: DEMO_PASSWORD } })
  const token = (await login.json()).token
  const units = await (await page.request.get('/api/v1/units?q=' + encodeURIComponent('沙柳北路社区'), { headers: { Authorization: 'Bearer ' + token } })).json()
  const earlier = await page.request.post('/api/v1/work-orders', {
    headers: { Authorization: 'Bearer ' + token },
    data: { title: '沙柳北路社区停水 E2E', description: '早上起停水。', category_code: '010101', channel: 'phone', unit_id: units.items[0].id },
  })
  expect(earlier.status()).toBe(201)
  await page.goto('/work-orders')
  await page.getByTestId('create-wo').click()
  const form = page.getByTestId('create-form')
  await form.getByLabel('标题').fill(title)
  await pickCascader(page, field(form, '问题分类'), '停水')
  await pickTree(page, field(form, '所属单位'), '沙柳北路社区')
  await expect(page.getByTestId('similar')).toBeVisible()
  await expect(page.getByTestId('similar')).toContainText('沙柳北路社区停水 E2E')
  await form.getByLabel('问题描述').fill('沙柳北里5号楼停水，E2E 测试。')
  await page.getByTestId('c-submit').click()
  await expect(page).toHaveURL(/\/work-orders\/\d+$/)
  const url = page.url()
  await expect(page.getByTestId('wo-title')).toContainText(title)
  await expectStatus(page, '新建')
  await expect(page.getByTestId('timeline')).toContainText('创建')
  expect(await actions(page)).toEqual(expect.arrayContaining(['dispatch', 'cancel', 'comment']))
  expect(await actions(page)).not.toContain('accept')

  // attachment upload and preview
  const png = makePng()
  await page.getByTestId('upload-input').setInputFiles({ name: 'scene.png', mimeType: 'image/png', buffer: png })
  await expect(page.getByTestId('attachments').locator('img')).toHaveCount(1)

  // 2. dispatch to the property company
  await act(page, 'dispatch')
  await pickOption(page, field(page.getByTestId('action-form'), '组织/物业'), '天津鸿润物业服务有限公司')
  await page.getByTestId('action-form').getByLabel('备注').fill('请尽快处理')
  await submitAction(page)
  await expectStatus(page, '已派单')
  await expect(page.getByTestId('timeline')).toContainText('派单')
  await expect(page.getByTestId('timeline')).toContainText('天津鸿润物业服务有限公司')
  await expect(page.getByTestId('handler')).toContainText('天津鸿润物业服务有限公司')
  await shot(page, 'work-order-detail')
  await s.context.close()

  // 3. the property company accepts and resolves
  const w = await asUser(browser, 'wuye')
  page = w.page
  await page.goto(url)
  await expectStatus(page, '已派单')
  expect(await actions(page)).toEqual(expect.arrayContaining(['accept', 'return']))
  await act(page, 'accept')
  await submitAction(page)
  await expectStatus(page, '已受理')
  await expect(page.getByTestId('timeline')).toContainText('受理')
  await act(page, 'resolve')
  await page.getByTestId('action-form').getByLabel('处理结果').fill('已修复供水管道阀门')
  await submitAction(page)
  await expectStatus(page, '已办结')
  await expect(page.getByTestId('timeline')).toContainText('已修复供水管道阀门')
  expect(await actions(page)).not.toContain('verify')
  await w.context.close()

  // 4. community staff verifies and calls back
  const s2 = await asUser(browser, 'shequ')
  page = s2.page
  await page.goto(url)
  await expectStatus(page, '已办结')
  await act(page, 'verify')
  await submitAction(page)
  await expectStatus(page, '已核查')
  await expect(page.getByTestId('timeline')).toContainText('核查')
  await act(page, 'callback')
  // nothing is pre-selected: submitting at once is refused in the browser
  await page.getByTestId('a-submit').click()
  await expect(page.getByTestId('action-form').locator('.el-form-item__error').first()).toContainText('请填写')
  await field(page.getByTestId('action-form'), '满意度').getByText('基本满意').click()
  await field(page.getByTestId('action-form'), '问题已解决').getByText('是', { exact: true }).click()
  await page.getByTestId('action-form').getByLabel('备注').fill('电话回访，居民认可')
  await submitAction(page)
  await expectStatus(page, '已关闭')
  await expect(page.getByTestId('timeline')).toContainText('回访')
  await expect(page.getByTestId('timeline')).toContainText('基本满意')
  const events = await page.getByTestId('timeline').locator('[data-action]').evaluateAll((els) => els.map((e) => e.dataset.action))
  expect(events).toEqual(expect.arrayContaining(['create', 'dispatch', 'accept', 'resolve', 'verify', 'callback']))
  expect(s2.page.consoleErrors).toEqual([])
  await s2.context.close()
})
