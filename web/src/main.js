import { createApp } from 'vue'
import { createPinia } from 'pinia'
import ElementPlus from 'element-plus'
import 'element-plus/dist/index.css'
import App from './App.vue'
import { router } from './router.js'
import { i18n } from './i18n/index.js'
import { onEnrolmentRequired, onUnauthorized } from './api.js'
import { useAuth } from './stores/auth.js'
import { useRef } from './stores/ref.js'
import './style.css'

const app = createApp(App)
const pinia = createPinia()
app.use(pinia).use(i18n).use(ElementPlus).use(router)

// Session expired (idle timeout, password changed elsewhere, disabled):
// back to the login page, then back to where the user was.
onUnauthorized(() => {
  const auth = useAuth()
  const wasIn = !!auth.user
  auth.user = null
  useRef().reset()
  const cur = router.currentRoute.value
  if (cur.meta.public) return
  router.replace({ path: '/login', query: { redirect: cur.fullPath, ...(wasIn ? { expired: '1' } : {}) } })
})

// The second factor was reset (or the role now requires one) while signed in.
onEnrolmentRequired(() => {
  const auth = useAuth()
  if (auth.user) auth.user = { ...auth.user, totp_enabled: false, totp_required: true }
  if (!router.currentRoute.value.meta.totp) router.replace('/totp')
})

app.mount('#app')
