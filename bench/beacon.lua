-- wrk script for the reader beacon: POST /archives/<id>/read as the page's script sends it, each
-- request from a new reader (its own visitor cookie), so that every read counts.
--   wrk -s bench/beacon.lua http://127.0.0.1:PORT -- /archives/1/read RUN ORIGIN USER-AGENT [PAGE]
-- RUN (an integer) makes the cookies of one run differ from every other run's.
-- With PAGE, a visit as a browser makes it: GET PAGE (gzip, no cookie: the visitor cookie's path
-- is the beacon's) and the beacon, in turn: half the requests are pages, half beacons.
-- The floor is measured with this same script (PAGE and the beacon both the trivial view), so
-- that wrk's own cost per request, on the same cores, is the same on both sides of a ratio.
-- done() prints one line: WRK-JSON {"requests", "ok" (200s), "counted" ("counted": true), ...}.
local threads = {}
local counter = 0
-- globals, so that done() can read them from each thread with thread:get()
ok, counted = 0, 0

setup = function(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

init = function(args)
  path, run, origin, agent, page = args[1], tonumber(args[2]), args[3], args[4], args[5]
end

request = function()
  counter = counter + 1
  if page and counter % 2 == 1 then
    return wrk.format("GET", page, {["User-Agent"] = agent, ["Accept-Encoding"] = "gzip"})
  end
  return wrk.format("POST", path, {
    ["Cookie"] = string.format("reader=%08x%08x%016x", run, tid, counter),
    ["Origin"] = origin,
    ["Sec-Fetch-Site"] = "same-origin",
    ["User-Agent"] = agent,
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, "cookies=1")
end

response = function(status, headers, body)
  if status == 200 then ok = ok + 1 end
  if string.find(body, '"counted": true', 1, true) then counted = counted + 1 end
end

done = function(summary, latency, requests)
  local sum_ok, sum_counted = 0, 0
  for _, thread in ipairs(threads) do
    sum_ok = sum_ok + thread:get("ok")
    sum_counted = sum_counted + thread:get("counted")
  end
  local e = summary.errors
  io.write(string.format(
    'WRK-JSON {"requests": %d, "duration_us": %d, "ok": %d, "counted": %d, ' ..
    '"errors": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, sum_ok, sum_counted,
    e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
