// Error text for the user, in the user's language: the code of every error the server
// sends ({"error":{"code","message","field"}}) has a text in i18n `errors.<code>`, every
// field a label in `field.<name>`, and the server's English field messages are matched
// against the patterns below (src/model/entity.c, src/core/crypto.c and the modules
// write them) so that a Chinese user reads Chinese on the field.
// Pure functions over the message tables: tested in tests/errors.test.js.
import zh from './i18n/zh-CN.js'
import en from './i18n/en.js'

const TABLES = { 'zh-CN': zh, en }

function lookup(table, key) {
  // keys such as 'requester.name' are literal leaves of `field`
  const [head, ...rest] = key.split('.')
  const sect = table[head]
  if (!sect) return undefined
  const leaf = rest.join('.')
  if (typeof sect[leaf] === 'string') return sect[leaf]
  let cur = sect
  for (const p of rest) cur = cur && cur[p]
  return typeof cur === 'string' ? cur : undefined
}
function fill(s, args) { return s.replace(/\{(\w+)\}/g, (m, k) => (args[k] !== undefined ? String(args[k]) : m)) }

export function fieldLabel(field, locale = 'zh-CN') {
  if (!field) return ''
  const t = TABLES[locale] || zh
  return lookup(t, 'field.' + field) || lookup(t, 'field.' + field.split('.').pop()) || field
}

export function codeText(code, locale = 'zh-CN', status) {
  const t = TABLES[locale] || zh
  return lookup(t, 'errors.' + code) || fill(lookup(t, 'errors.generic'), { status: status ?? '' })
}

// [pattern, message key in `fielderr`]: the first match wins.  Capture groups are
// passed as {a}, {b}.
const PATTERNS = [
  [/ is required$|^file is required$/, 'required'],
  [/ must not be (empty|null)$/, 'required'],
  [/ must be true or false$/, 'boolean'],
  [/ must be an? (string|integer|number|id|positive id|list|list of ids|list of positive ids)$/, 'type'],
  [/ must be an ISO-8601 time/, 'time'],
  [/ must be a list of dates|each entry must be a date/, 'dates'],
  [/ is too long$/, 'too_long'],
  [/ is too short$/, 'too_short'],
  [/ must have at most (\d+) characters$/, 'max_chars'],
  [/ must have (\d+) to (\d+) characters$/, 'range_chars'],
  [/ must have (\d+) to (\d+) digits$/, 'range_digits'],
  [/ must have at most (\d+) ids$/, 'max_ids'],
  [/ must be from (-?\d+) to (-?\d+)$/, 'range'],
  [/ must be a whole number from (\d+) to (\d+)$/, 'range'],
  [/ must be one of: /, 'one_of'],
  [/ cannot be set$/, 'cannot_set'],
  [/ cannot be changed$/, 'cannot_change'],
  [/ contains characters that are not allowed$| may hold only /, 'chars'],
  [/ lists (a value|id \d+) twice$| is listed twice$/, 'twice'],
  [/: no [a-z_ ]+ with id \d+$|: no work order \d+$/, 'no_such'],
  [/ is not in the dictionary /, 'not_in_dict'],
  [/ is not in \d+$/, 'wrong_year'],
  [/ already exists$/, 'exists'],
  [/password must have at least (\d+) characters/, 'pw_short'],
  [/password must have at most (\d+) bytes/, 'pw_long'],
  [/password must mix three of/, 'pw_mix'],
  [/^the password is wrong$/, 'pw_wrong'],
  [/wrong or already used code/, 'code_wrong'],
  [/unified social credit code/, 'credit_code'],
  [/^unknown (field|query parameter|setting) /, 'unknown'],
  [/is not in (the|your) scope|outside the account's scope|not in scope/, 'scope'],
]

// The text shown on the form item of err.field.
export function fieldMessage(err, locale = 'zh-CN') {
  const t = TABLES[locale] || zh
  const label = fieldLabel(err.field, locale)
  const msg = String(err.message || '')
  for (const [re, key] of PATTERNS) {
    const m = re.exec(msg)
    if (m) {
      const tpl = lookup(t, 'fielderr.' + key)
      if (tpl) return fill(tpl, { field: label, a: m[1], b: m[2] })
    }
  }
  if (err.code === 'conflict') return fill(lookup(t, 'fielderr.exists'), { field: label })
  // nothing matched: the code's text for the field (and, in English, what the server said)
  const base = fill(lookup(t, 'fielderr.invalid'), { field: label })
  return locale === 'en' && msg ? `${base} (${msg})` : base
}
