// The error-text module: every error code the server can send and every field the
// server names has a text in both languages, and the server's English field messages
// come out in Chinese on the field.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { codeText, fieldLabel, fieldMessage } from '../src/errorText.js'
import zh from '../src/i18n/zh-CN.js'
import en from '../src/i18n/en.js'

const root = new URL('../../src', import.meta.url).pathname
function cfiles(dir) {
  return readdirSync(dir).flatMap((f) => { const p = join(dir, f); return statSync(p).isDirectory() ? cfiles(p) : f.endsWith('.c') ? [p] : [] })
}
const csrc = cfiles(root).map((f) => readFileSync(f, 'utf8')).join('\n')

test('every error code of src/core/err.h has a text in both languages', () => {
  const codes = [...readFileSync(join(root, 'core/err.h'), 'utf8').matchAll(/X\(GZ_[A-Z_]+, \d+, "([a-z_]+)"\)/g)].map((m) => m[1]).filter((c) => c !== 'ok')
  assert.ok(codes.length > 20, 'codes parsed')
  for (const c of [...codes, 'network']) {
    assert.ok(zh.errors[c], 'zh-CN errors.' + c)
    assert.ok(en.errors[c], 'en errors.' + c)
  }
})

// the names of the server's entity fields and of the fields its errors name
// (server settings are not user input: config.c is left out)
const CONFIG = new Set(['cookie_secure', 'log_level', 'metrics_token', 'notify_webhook_url', 'require_totp_for', 'trusted_proxies'])
test('every field the server declares or names in an error has a label in both languages', () => {
  const names = new Set([
    ...[...csrc.matchAll(/\{"([a-z_]+)", GZ_T_/g)].map((m) => m[1]),
    ...[...csrc.matchAll(/gz_fail_field\([^,]+, GZ_E_[A-Z_]+, "([a-z_.]+)"/g)].map((m) => m[1]),
  ])
  assert.ok(names.size > 50, 'fields parsed')
  const missing = [...names].filter((n) => !CONFIG.has(n)).filter((n) => fieldLabel(n, 'zh-CN') === n || fieldLabel(n, 'en') === n)
  assert.deepEqual(missing, [])
})

test('server field messages are shown in Chinese, naming the field', () => {
  const e = (field, message, code = 'validation_failed') => ({ code, field, message })
  assert.equal(fieldMessage(e('title', 'title is required'), 'zh-CN'), '请填写标题')
  assert.equal(fieldMessage(e('title', 'title must have at most 100 characters'), 'zh-CN'), '标题最多 100 个字符')
  assert.equal(fieldMessage(e('unit_id', 'unit_id: no unit with id 999'), 'zh-CN'), '所选所属单位不存在或无权使用')
  assert.equal(fieldMessage(e('channel', 'channel must be one of: hotline_12345, web'), 'zh-CN'), '来源渠道的取值无效')
  assert.equal(fieldMessage(e('new_password', 'password must have at least 10 characters'), 'zh-CN'), '密码至少 10 位')
  assert.equal(fieldMessage(e('workdays', 'workdays must be from 1 to 15'), 'zh-CN'), '延期工作日须在 1 至 15 之间')
  assert.equal(fieldMessage(e('code', 'code already exists', 'conflict'), 'zh-CN'), '编码已存在')
  assert.equal(fieldMessage(e('requester.phone', 'phone may hold only digits, spaces and + - ( )'), 'zh-CN'), '联系电话包含不允许的字符')
  assert.equal(fieldMessage(e('bogus', "unknown field 'bogus'", 'unknown_field'), 'zh-CN'), '不支持的字段“bogus”')
  // no pattern: the field's name and that it is wrong, never the English text
  const other = fieldMessage(e('address', 'something new the server says'), 'zh-CN')
  assert.equal(other, '地址填写有误')
  assert.doesNotMatch(other, /[a-z]{3}/)
})

test('in English the field message is English', () => {
  assert.equal(fieldMessage({ code: 'validation_failed', field: 'title', message: 'title is required' }, 'en'), 'Title is required')
  assert.match(fieldMessage({ code: 'validation_failed', field: 'address', message: 'odd' }, 'en'), /Address is not valid \(odd\)/)
})

test('a code the console does not know still reads as a sentence with the status', () => {
  assert.equal(codeText('not_found', 'zh-CN'), '数据不存在或无权查看')
  assert.equal(codeText('brand_new_code', 'zh-CN', 418), '请求失败（HTTP 418）')
})

test('the password rule matches the server', async () => {
  const { passwordProblem } = await import('../src/lib/password.js')
  assert.equal(passwordProblem('short1A').key, 'fielderr.pw_short')
  assert.equal(passwordProblem('alllowercaseletters').key, 'fielderr.pw_mix')
  assert.equal(passwordProblem('lowerUPPERonly').key, 'fielderr.pw_mix')
  assert.equal(passwordProblem('lowerUPPER123'), null)
  assert.equal(passwordProblem('中文密码中文密码中文1a'), null) // 中 counts as "other", as in C
  assert.equal(passwordProblem('x'.repeat(300)).key, 'fielderr.pw_long')
})
