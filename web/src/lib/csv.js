// CSV the way Excel opens it: UTF-8 with a byte-order mark, CRLF, fields quoted when
// they hold a quote, comma or line break, and a leading = + - @ defused (formula
// injection) by a leading apostrophe.
export function csvField(v) {
  let s = v === null || v === undefined ? '' : String(v)
  if (/^[=+\-@]/.test(s)) s = "'" + s
  return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s
}
export function toCsv(rows) { return '\ufeff' + rows.map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n' }
export function download(text, name, type) {
  const url = URL.createObjectURL(new Blob([text], { type }))
  const a = document.createElement('a')
  a.href = url
  a.download = name
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 1000)
}
