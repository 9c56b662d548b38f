-- create.lua - durable POST /api/v1/orgs with a unique name per request; expects 201.
-- Unique across threads (thread id), requests (per-thread counter) and runs against
-- the same database (BENCH_PREFIX, set by bench/run, plus a random part).
dofile((os.getenv("BENCH_LUA_DIR") or "bench") .. "/common.lua")

local token = os.getenv("BENCH_TOKEN")
if token and token ~= "" then
	wrk.headers["Authorization"] = "Bearer " .. token
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

local counter = 0
local prefix

function init(args)
	-- id is set by setup() before init runs in the thread's own Lua state.
	math.randomseed(os.time() * 1000 + (id or 0))
	prefix = (os.getenv("BENCH_PREFIX") or "") .. string.format("%06x", math.random(0, 0xffffff))
end

function request()
	counter = counter + 1
	local body = string.format('{"kind":"partner","name":"bench-%s-%d-%d"}', prefix, id or 0,
				   counter)
	return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
	check_status(status, body, 201)
end
