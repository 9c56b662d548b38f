-- common.lua - shared by the wrk scripts: counts responses whose status is not the
-- expected one (per thread), and prints the total in done() as a line bench/run
-- parses:  "bench: unexpected=<n> first=<status> <body prefix>"
-- Loaded with dofile() from the scripts; BENCH_LUA_DIR says where it lives.

local threads = {}
local next_id = 0

function setup(thread)
	next_id = next_id + 1
	thread:set("id", next_id)
	table.insert(threads, thread)
end

unexpected = 0
first_bad = ""

function check_status(status, body, want)
	if status ~= want then
		unexpected = unexpected + 1
		if first_bad == "" then
			first_bad = tostring(status) .. " " .. string.sub(body or "", 1, 200):gsub("%s+", " ")
		end
	end
end

function done(summary, latency, requests)
	local total, first = 0, ""
	for _, t in ipairs(threads) do
		total = total + (t:get("unexpected") or 0)
		local f = t:get("first_bad") or ""
		if first == "" then first = f end
	end
	io.write(string.format("bench: unexpected=%d first=%s\n", total, first))
end
