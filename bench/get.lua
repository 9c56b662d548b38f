-- get.lua - a GET with an optional bearer token (BENCH_TOKEN) that expects 200.
dofile((os.getenv("BENCH_LUA_DIR") or "bench") .. "/common.lua")

local token = os.getenv("BENCH_TOKEN")
if token and token ~= "" then
	wrk.headers["Authorization"] = "Bearer " .. token
end

function response(status, headers, body)
	check_status(status, body, 200)
end
