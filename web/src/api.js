// One fetch wrapper for the whole console: cookie session, X-CSRF-Token on
// every state change, one error type for {"error":{"code","message","field"}}.
export class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {}
    super(e.message || `HTTP ${status}`)
    this.status = status
    this.code = e.code || (status === 0 ? 'network' : 'http_' + status)
    this.field = e.field || null
    this.allowed = e.allowed || null
    this.body = body
  }
}

let csrfToken = ''
let unauthorizedHandler = null
let enrolmentHandler = null
export function setCsrf(token) { csrfToken = token || '' }
export function onUnauthorized(fn) { unauthorizedHandler = fn }
// the account must set up two-step verification before anything else (403 totp_enrolment_required)
export function onEnrolmentRequired(fn) { enrolmentHandler = fn }

export function qs(params) {
  if (!params) return ''
  const parts = []
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '' || v === false) continue
    if (Array.isArray(v)) { if (v.length) parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(v.join(','))}`); continue }
    parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
  }
  return parts.length ? '?' + parts.join('&') : ''
}

export async function request(method, path, { body, query, form, headers: extra } = {}) {
  const headers = { Accept: 'application/json', ...(extra || {}) }
  const opts = { method, headers, credentials: 'same-origin' }
  if (method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = csrfToken
  if (form) opts.body = form
  else if (body !== undefined) { headers['Content-Type'] = 'application/json'; opts.body = JSON.stringify(body) }
  let res
  try {
    res = await fetch('/api/v1' + path + qs(query), opts)
  } catch (e) {
    throw new ApiError(0, { error: { code: 'network', message: String(e.message || e) } })
  }
  if (res.status === 204) return null
  const text = await res.text()
  let data = null
  try { data = text ? JSON.parse(text) : null } catch { data = null }
  if (!res.ok) {
    const err = new ApiError(res.status, data)
    if (res.status === 401 && !path.startsWith('/auth/login') && unauthorizedHandler) unauthorizedHandler(err)
    if (res.status === 403 && err.code === 'totp_enrolment_required' && enrolmentHandler) enrolmentHandler(err)
    throw err
  }
  return data
}

export const api = {
  get: (p, query) => request('GET', p, { query }),
  post: (p, body) => request('POST', p, { body }),
  patch: (p, body) => request('PATCH', p, { body }),
  put: (p, body) => request('PUT', p, { body }),
  del: (p) => request('DELETE', p),
  upload: (p, file, field = 'file') => { const f = new FormData(); f.append(field, file); return request('POST', p, { form: f }) },
  // every page of a list (dictionaries, organisations: small)
  async all(p, query = {}) {
    const items = []
    let cursor = null
    for (let i = 0; i < 50; i++) {
      const r = await request('GET', p, { query: { ...query, limit: 500, cursor } })
      items.push(...r.items)
      if (!r.next_cursor) break
      cursor = r.next_cursor
    }
    return items
  },
}
