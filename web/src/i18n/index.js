import { createI18n } from 'vue-i18n'
import zhCN from './zh-CN.js'
import en from './en.js'

const saved = (typeof localStorage !== 'undefined' && localStorage.getItem('gz_locale')) || 'zh-CN'
export const i18n = createI18n({
  legacy: false,
  locale: saved === 'en' ? 'en' : 'zh-CN',
  fallbackLocale: 'zh-CN',
  messages: { 'zh-CN': zhCN, en },
})
export function setLocale(l) {
  i18n.global.locale.value = l
  localStorage.setItem('gz_locale', l)
  document.documentElement.lang = l
}
export const t = (...a) => i18n.global.t(...a)
export const te = (k) => i18n.global.te(k)
