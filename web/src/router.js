import { createRouter, createWebHistory } from 'vue-router'
import { useAuth, isPhone } from './stores/auth.js'
import Layout from './layout/Layout.vue'

// meta.perm: the permission a page needs; meta.title: i18n key; meta.group: breadcrumb parent
export const routes = [
  { path: '/login', component: () => import('./views/Login.vue'), meta: { public: true, title: 'login.title' } },
  // two-step verification set-up: the one page an account that must enrol can reach
  { path: '/totp', component: () => import('./views/TotpEnrol.vue'), meta: { totp: true, title: 'totp.title' } },
  {
    path: '/',
    component: Layout,
    children: [
      { path: '', redirect: () => useAuth().home() },
      { path: 'dashboard', component: () => import('./views/Dashboard.vue'), meta: { perm: 'stats.read', title: 'menu.dashboard', icon: 'House' } },
      { path: 'work-orders', component: () => import('./views/workorders/List.vue'), meta: { perm: 'work_orders.read', title: 'menu.work_orders', icon: 'Tickets' } },
      { path: 'work-orders/:id', component: () => import('./views/workorders/Detail.vue'), meta: { perm: 'work_orders.read', title: 'menu.work_order_detail', parent: '/work-orders', hidden: true } },
      { path: 'notices', component: () => import('./views/notices/Notices.vue'), meta: { perm: 'notices.write', title: 'menu.notices' } },
      { path: 'settings/units', component: () => import('./views/settings/Units.vue'), meta: { perm: 'units.read', title: 'menu.units', group: 'menu.settings' } },
      { path: 'settings/orgs', component: () => import('./views/settings/Orgs.vue'), meta: { perm: 'orgs.read', title: 'menu.orgs', group: 'menu.settings' } },
      { path: 'settings/users', component: () => import('./views/settings/Users.vue'), meta: { perm: 'users.write', title: 'menu.users', group: 'menu.settings' } },
      { path: 'settings/dicts', component: () => import('./views/settings/Dicts.vue'), meta: { perm: 'dicts.write', title: 'menu.dicts', group: 'menu.settings' } },
      { path: 'settings/sla', component: () => import('./views/settings/Sla.vue'), meta: { perm: 'sla.write', title: 'menu.sla', group: 'menu.settings' } },
      { path: 'settings/calendar', component: () => import('./views/settings/Calendar.vue'), meta: { perm: 'calendar.write', title: 'menu.calendar', group: 'menu.settings' } },
      { path: 'settings/roles', component: () => import('./views/settings/Roles.vue'), meta: { perm: 'users.write', title: 'menu.roles', group: 'menu.settings' } },
      { path: 'logs/operations', component: () => import('./views/settings/OpLog.vue'), meta: { perm: 'audit.read', title: 'menu.oplog', group: 'menu.logs' } },
      { path: 'logs/logins', component: () => import('./views/settings/LoginLog.vue'), meta: { perm: 'audit.read', title: 'menu.loginlog', group: 'menu.logs' } },
      { path: 'settings/audit', component: () => import('./views/settings/Audit.vue'), meta: { perm: 'audit.read', title: 'menu.audit', group: 'menu.logs' } },
      { path: 'profile', component: () => import('./views/Profile.vue'), meta: { title: 'menu.profile', hidden: true } },
      { path: 'settings/api-keys', component: () => import('./views/settings/ApiKeys.vue'), meta: { perm: 'api_keys.manage', title: 'menu.api_keys', group: 'menu.settings' } },
    ],
  },
  {
    path: '/m',
    component: () => import('./views/mobile/MLayout.vue'),
    children: [
      { path: '', redirect: () => (useAuth().residentOnly() ? '/m/requests' : '/m/tasks') },
      { path: 'done/:id', component: () => import('./views/mobile/MDone.vue'), meta: { perm: 'work_orders.create', title: 'mobile.done_title', mobile: true } },
      { path: 'profile', component: () => import('./views/Profile.vue'), meta: { title: 'menu.profile', mobile: true } },
      { path: 'report', component: () => import('./views/mobile/MReport.vue'), meta: { perm: 'work_orders.create', title: 'mobile.report', mobile: true } },
      { path: 'tasks', component: () => import('./views/mobile/MTasks.vue'), meta: { perm: 'work_orders.read', title: 'mobile.tasks', mobile: true, handlers: true } },
      { path: 'requests', component: () => import('./views/mobile/MRequests.vue'), meta: { perm: 'work_orders.read', title: 'mobile.requests', mobile: true } },
      { path: 'todo', component: () => import('./views/mobile/MTodo.vue'), meta: { title: 'mobile.todo', mobile: true } },
      { path: 'messages', component: () => import('./views/mobile/MMessages.vue'), meta: { title: 'mobile.notices', mobile: true } },
      { path: 'orders/:id', component: () => import('./views/mobile/MDetail.vue'), meta: { perm: 'work_orders.read', title: 'mobile.detail', mobile: true } },
      { path: 'notices', component: () => import('./views/mobile/MNotices.vue'), meta: { perm: 'notices.read', title: 'notice.mobile', mobile: true } },
    ],
  },
  { path: '/:rest(.*)*', component: () => import('./views/NotFound.vue'), meta: { public: true, title: 'common.not_found' } },
]

export const router = createRouter({ history: createWebHistory(), routes })

router.beforeEach(async (to) => {
  const auth = useAuth()
  if (!auth.loaded) await auth.fetchMe().catch(() => null)
  if (to.meta.public) return true
  if (!auth.user) return { path: '/login', query: { redirect: to.fullPath } }
  if (auth.needsTotp() && !to.meta.totp) return '/totp'
  // residents never see the desktop console; field roles on a phone get the phone pages
  if (!to.meta.mobile && !to.meta.totp && (auth.residentOnly() || (auth.fieldWorker() && isPhone()))) return mobileOf(to, auth)
  // a resident handles nothing: the task list is its own request list
  if (to.meta.handlers && auth.residentOnly()) return '/m/requests'
  if (to.meta.perm && !auth.can(to.meta.perm)) return auth.home() === to.path ? '/work-orders' : auth.home()
  return true
})

// the phone page for a desktop one
export function mobileOf(to, auth) {
  const m = /^\/work-orders\/(\d+)$/.exec(to.path)
  if (m) return '/m/orders/' + m[1]
  if (to.path === '/profile') return '/m/profile'
  return auth.residentOnly() ? '/m/requests' : '/m/tasks'
}
