import { reactive } from 'vue'
import { ElMessage } from 'element-plus'
import { ApiError } from './api.js'
import { t, te, i18n } from './i18n/index.js'

// Human text for an API error: the translated code, with the server's own
// message when it says more (validation details, transitions).
export function errorText(err) {
  if (!(err instanceof ApiError)) return String((err && err.message) || err)
  if (err.code === 'account_locked') {
    const m = /(\d+)\s*more minute/.exec(err.message || '')
    return m ? t('errors.account_locked_min', { n: m[1] }) : t('errors.account_locked')
  }
  if (err.code === 'invalid_transition' && err.allowed) {
    return t('errors.invalid_transition') + ' ' + t('errors.allowed', { list: err.allowed.map((a) => t('action.' + a)).join(', ') })
  }
  const key = 'errors.' + err.code
  const base = te(key) ? t(key) : t('errors.generic', { status: err.status })
  const detail = err.message && !/^HTTP \d+$/.test(err.message) ? err.message : ''
  if (!detail || err.code === 'unauthenticated' || err.code === 'internal') return base
  return `${base}（${detail}）`
}

export function showError(err) {
  if (err instanceof ApiError && err.status === 401) return // handled by the session guard
  ElMessage({ type: 'error', message: errorText(err), duration: 5000, showClose: true })
}

// Field errors for an el-form: bind :error="errors.field" on each el-form-item.
export function useFormErrors() {
  const errors = reactive({})
  function clear() { for (const k of Object.keys(errors)) delete errors[k] }
  function handle(err) {
    clear()
    if (err instanceof ApiError && err.field) {
      errors[err.field] = fieldText(err)
      ElMessage({ type: 'warning', message: t('errors.check_field', { field: fieldLabel(err.field) }) })
      return
    }
    showError(err)
  }
  return { errors, clear, handle }
}

function fieldLabel(f) { return te('field.' + f) ? t('field.' + f) : f }
function fieldText(err) {
  // The server's message is English; in Chinese show a translated lead plus it.
  if (i18n.global.locale.value === 'en') return err.message
  return `${t('errors.' + (te('errors.' + err.code) ? err.code : 'validation_failed'))}：${err.message}`
}
