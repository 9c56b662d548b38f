// One colour per status, used by tags, the pie and its legend.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { STATUS_COLORS, statusColor, statusStyle, STATUS_GROUPS, OPEN_STATUSES } from '../src/status.js'

// the statuses the server declares (GZ_WO_STATUSES in src/modules/work_order.h)
const wo = readFileSync(new URL('../../src/modules/work_order.h', import.meta.url), 'utf8')
const serverStatuses = [...wo.matchAll(/X\([A-Z_]+, "([a-z_]+)"\)/g)].map((x) => x[1])

test('every status the server has a colour, and no two share one', () => {
  assert.ok(serverStatuses.length >= 10, 'statuses parsed from work_order.h')
  for (const s of serverStatuses) assert.ok(STATUS_COLORS[s], s)
  const colours = Object.values(STATUS_COLORS)
  assert.equal(new Set(colours).size, colours.length)
  for (const c of colours) assert.match(c, /^#[0-9a-f]{6}$/)
})

test('the tag style is built from the status colour', () => {
  assert.equal(statusColor('closed'), STATUS_COLORS.closed)
  assert.equal(statusStyle('returned').color, STATUS_COLORS.returned)
  assert.ok(statusStyle('returned').backgroundColor.startsWith(STATUS_COLORS.returned))
  assert.equal(statusColor('no_such_status'), '#909399')
})

test('the dashboard groups cover the open statuses once each', () => {
  const grouped = Object.values(STATUS_GROUPS).flat()
  assert.deepEqual([...grouped].sort(), [...OPEN_STATUSES].sort())
})
