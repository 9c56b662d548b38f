import { reactive, watch } from 'vue'
import { ElMessage } from 'element-plus'
import { ApiError } from './api.js'
import { t, i18n } from './i18n/index.js'
import { codeText, fieldLabel, fieldMessage } from './errorText.js'

const locale = () => i18n.global.locale.value

// Human text for an API error, in the user's language: the code's text, and for a
// field error what is wrong with which field.  The server's own (English) message is
// shown only in English.
export function errorText(err) {
  if (!(err instanceof ApiError)) return String((err && err.message) || err)
  if (err.code === 'account_locked') {
    const m = /(\d+)\s*more minute/.exec(err.message || '')
    return m ? t('errors.account_locked_min', { n: m[1] }) : t('errors.account_locked')
  }
  if (err.code === 'invalid_transition' && err.allowed) {
    return t('errors.invalid_transition') + ' ' + t('errors.allowed', { list: err.allowed.map((a) => t('action.' + a)).join(', ') })
  }
  if (err.field) return fieldMessage(err, locale())
  const base = codeText(err.code, locale(), err.status)
  const detail = err.message && !/^HTTP \d+$/.test(err.message) ? err.message : ''
  if (locale() !== 'en' || !detail || ['unauthenticated', 'internal', 'network'].includes(err.code)) return base
  return `${base} (${detail})`
}

export function showError(err) {
  if (err instanceof ApiError && err.status === 401) return // handled by the session guard
  ElMessage({ type: 'error', message: errorText(err), duration: 5000, showClose: true })
}

// Field errors for an el-form: bind :error="errors.field" on each el-form-item.  With
// `model`, an error goes away as soon as its field is edited.  `aliases` maps the
// server's field name to the model key when they differ ({'requester.phone':
// 'requester_phone'}).
export function useFormErrors(model, aliases = {}) {
  const errors = reactive({})
  const back = {}
  for (const [srv, key] of Object.entries(aliases)) (back[key] = back[key] || []).push(srv)
  function clear() { for (const k of Object.keys(errors)) delete errors[k] }
  if (model) {
    let before = JSON.parse(JSON.stringify(model))
    watch(model, () => {
      const now = JSON.parse(JSON.stringify(model))
      for (const k of Object.keys(now)) {
        if (JSON.stringify(now[k]) === JSON.stringify(before[k])) continue
        delete errors[k]
        for (const s of back[k] || []) delete errors[s]
      }
      before = now
    }, { deep: true })
  }
  function handle(err) {
    clear()
    if (err instanceof ApiError && err.field) {
      const text = fieldMessage(err, locale())
      errors[err.field] = text
      if (aliases[err.field]) errors[aliases[err.field]] = text
      ElMessage({ type: 'warning', message: text || t('errors.check_field', { field: fieldLabel(err.field, locale()) }) })
      return
    }
    showError(err)
  }
  return { errors, clear, handle }
}

// Element Plus rules: a required field, with the field's name in the message.
// A text field ('blur') is checked again as it is typed in, so the message goes as
// soon as the field is filled.
export function required(field, trigger = 'change') {
  return { required: true, trigger: trigger === 'blur' ? ['blur', 'change'] : trigger, message: () => t('fielderr.required', { field: fieldLabel(field, locale()) }) }
}
// Runs el-form validation; resolves true when every rule holds.
export async function valid(formRef) {
  if (!formRef || !formRef.value) return true
  try { await formRef.value.validate(); return true } catch { return false }
}
