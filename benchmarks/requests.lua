-- Replays requests from a tab-separated file: method, path, cookie, body (body may be empty).
-- Each thread takes every n-th line; "cycle" repeats them, "once" stops the thread when its
-- lines are used up (a quiz attempt can be submitted only once). done() prints JSON.
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

local function parse(line)
  local method, target, cookie, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t?(.*)$")
  local headers = { ["User-Agent"] = "lms-bench/1" }
  if cookie ~= "" then headers["Cookie"] = cookie end
  if body ~= "" then headers["Content-Type"] = "application/x-www-form-urlencoded" end
  return wrk.format(method, target, headers, body ~= "" and body or nil)
end

function init(args)
  local path, nthreads = args[1], tonumber(args[3])
  once = args[2] == "once"
  reqs, n = {}, 0
  local i = 0
  for line in io.lines(path) do
    if i % nthreads == id then table.insert(reqs, parse(line)) end
    i = i + 1
  end
  if #reqs == 0 and not once then  -- fewer lines than threads: every thread replays them all
    for line in io.lines(path) do table.insert(reqs, parse(line)) end
  end
end

function request()
  n = n + 1
  if n > #reqs then
    if once then
      wrk.thread:stop()
      return reqs[#reqs]
    end
    n = 1
  end
  return reqs[n]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, "connect": %d, "read": %d, ' ..
    '"write": %d, "status": %d, "timeout": %d, "p50": %d, "p95": %d, "p99": %d, "max": %d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.max))
end
