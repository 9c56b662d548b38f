-- wo-create.lua - durable POST /api/v1/work-orders for bench/run-work-orders, with a
-- unique title per request (thread id, per-thread counter and BENCH_PREFIX, set per
-- run, plus a random part); expects 201.  BENCH_UNIT is the unit id (a community),
-- BENCH_TOKEN the bearer token of a community staff account.
dofile((os.getenv("BENCH_LUA_DIR") or "bench") .. "/common.lua")

local token = os.getenv("BENCH_TOKEN")
if token and token ~= "" then
	wrk.headers["Authorization"] = "Bearer " .. token
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

local unit = tonumber(os.getenv("BENCH_UNIT") or "0")
local counter = 0
local prefix

function init(args)
	-- id is set by setup() before init runs in the thread's own Lua state.
	math.randomseed(os.time() * 1000 + (id or 0))
	prefix = (os.getenv("BENCH_PREFIX") or "") .. string.format("%06x", math.random(0, 0xffffff))
end

function request()
	counter = counter + 1
	local n = counter % 12 + 1
	local body = string.format(
		'{"title":"沙柳北里%d号楼电梯故障停运 bench-%s-%d-%d",' ..
		'"description":"沙柳北里%d号楼电梯已停运两天，老人上下楼困难，请尽快维修。",' ..
		'"category_code":"010301","channel":"hotline_12345","unit_id":%d}',
		n, prefix, id or 0, counter, n, unit)
	return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
	check_status(status, body, 201)
end
