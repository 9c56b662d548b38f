// The server's password rule (src/core/crypto.c gz_password_check), checked in the
// browser first: at least 10 characters, at most 256 bytes, three of the four kinds
// lower case, upper case, digits, other.  null when the password is acceptable.
export function passwordProblem(pw) {
  const s = String(pw || '')
  if ([...s].length < 10) return { key: 'fielderr.pw_short', args: { a: 10 } }
  if (new TextEncoder().encode(s).length > 256) return { key: 'fielderr.pw_long', args: {} }
  let lower = 0, upper = 0, digit = 0, other = 0
  for (const ch of new TextEncoder().encode(s)) {
    if (ch >= 97 && ch <= 122) lower = 1
    else if (ch >= 65 && ch <= 90) upper = 1
    else if (ch >= 48 && ch <= 57) digit = 1
    else other = 1
  }
  if (lower + upper + digit + other < 3) return { key: 'fielderr.pw_mix', args: {} }
  return null
}
