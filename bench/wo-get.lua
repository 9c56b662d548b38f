-- wo-get.lua - GETs for bench/run-work-orders: a bearer token (BENCH_TOKEN) and a list
-- of request paths (BENCH_PATHS, separated by '|', already percent-encoded) that each
-- thread walks round-robin, starting at a different place; expects 200 (or
-- BENCH_STATUS).
dofile((os.getenv("BENCH_LUA_DIR") or "bench") .. "/common.lua")

local token = os.getenv("BENCH_TOKEN")
if token and token ~= "" then
	wrk.headers["Authorization"] = "Bearer " .. token
end
local want = tonumber(os.getenv("BENCH_STATUS") or "200")

local paths = {}
for p in string.gmatch(os.getenv("BENCH_PATHS") or "", "[^|]+") do
	table.insert(paths, p)
end
local requests = {}
local next_req = 0

function init(args)
	-- one pre-formatted request per path: no formatting cost while measuring
	if #paths == 0 then
		table.insert(requests, wrk.format())
	else
		for _, p in ipairs(paths) do
			table.insert(requests, wrk.format("GET", p))
		end
	end
	next_req = (id or 0) % #requests
end

function request()
	next_req = next_req % #requests + 1
	return requests[next_req]
end

function response(status, headers, body)
	check_status(status, body, want)
end
