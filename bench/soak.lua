-- soak.lua - the mixed load of bench/soak-memory: reads as an admin (BENCH_TOKEN) over
-- the request paths of BENCH_PATHS ('|'-separated, percent-encoded), and every
-- BENCH_WRITE_EVERY-th request a write as community staff (BENCH_WRITE_TOKEN): in turn
-- a durable POST /api/v1/work-orders in unit BENCH_UNIT and a comment on one of the
-- orders BENCH_COMMENT_IDS (','-separated: orders in that account's scope).  wrk does not say which request a response answers, so any
-- 200 or 201 counts as expected, anything else as unexpected.
dofile((os.getenv("BENCH_LUA_DIR") or "bench") .. "/common.lua")

local read_token = os.getenv("BENCH_TOKEN") or ""
local write_token = os.getenv("BENCH_WRITE_TOKEN") or read_token
local every = tonumber(os.getenv("BENCH_WRITE_EVERY") or "10")
local unit = tonumber(os.getenv("BENCH_UNIT") or "0")
local comment_ids = {}
for i in string.gmatch(os.getenv("BENCH_COMMENT_IDS") or "", "[^,]+") do
	table.insert(comment_ids, tonumber(i))
end
local paths = {}
for p in string.gmatch(os.getenv("BENCH_PATHS") or "", "[^|]+") do
	table.insert(paths, p)
end
local read_headers = {["Authorization"] = "Bearer " .. read_token}
local write_headers = {["Authorization"] = "Bearer " .. write_token,
	["Content-Type"] = "application/json"}
local n, writes, prefix = 0, 0, ""

function init(args)
	math.randomseed(os.time() * 1000 + (id or 0))
	prefix = string.format("%06x", math.random(0, 0xffffff))
end

function request()
	n = n + 1
	if every > 0 and n % every == 0 then
		writes = writes + 1
		if writes % 2 == 1 then
			local body = string.format(
				'{"title":"浸泡测试 %s-%d-%d 楼道灯不亮","description":"%d号楼楼道灯损坏，' ..
				'夜间出行不便。","category_code":"010901","channel":"phone","unit_id":%d}',
				prefix, id or 0, writes, writes % 12 + 1, unit)
			return wrk.format("POST", "/api/v1/work-orders", write_headers, body)
		end
		local body = string.format('{"action":"comment","note":"浸泡测试 %s-%d-%d"}',
			prefix, id or 0, writes)
		return wrk.format("POST", string.format("/api/v1/work-orders/%d/actions",
			comment_ids[math.random(1, #comment_ids)]), write_headers, body)
	end
	return wrk.format("GET", paths[n % #paths + 1], read_headers)
end

function response(status, headers, body)
	if status ~= 201 then
		check_status(status, body, 200)
	end
end
