-- GraphQL requests for `python -m benchmarks http`, `licence_http`, `scans` and `peer` (wrk 4.1 with
-- LuaJIT: apt-get install -y wrk).
--
-- Each wrk thread runs this file in a Lua state of its own, so it is configured by
-- environment variables; done() runs in the main state and collects what the threads
-- counted with thread:get (wrk copies tables between states). It prints lines
-- "BENCH <key> <value>" that benchmarks/loadgen.py parses.
--
--   BENCH_QUERY      hello | me | write | verify | scan | charge | peer_mycity | peer_me
--   BENCH_TOKENS     a file of access tokens, one a line; each request picks one at random
--   BENCH_PAYLOADS   verify: a file of presentations, one a line, each sent once: thread j
--                    of N takes lines j, j+N, ... in turn; a thread that runs out counts it
--                    (`exhausted`) and stops. scan: a file of city codes, one a line, sent
--                    round robin (thread j of N starts at line j + 1 and steps by N, wrapping
--                    round): a non-payment scan may repeat. For both, an answer without
--                    `"valid": true` is counted as `not_valid`. charge: payment codes, each
--                    sent once as verify's presentations are, with an idempotency key of its
--                    own; an answer without `"status": "SUCCEEDED"` is counted as `not_valid`.
--   BENCH_TAG        makes this run's addresses differ from earlier runs' (write)
--   BENCH_THREADS    the -t given to wrk
--   BENCH_START_MS   t0, the first slot, this long after wrk starts: every thread connected
--   BENCH_LATENCIES  1: one connection per thread, so each response pairs with the request
--                    in flight: measure latencies here (not with wrk's histogram, which
--                    4.1 "corrects" by adding made-up samples)
--   BENCH_RATE       open loop: requests/s over all threads (one connection each)
--   BENCH_WINDOW_MS  open loop: send the slots of this long, then wait for the last answers
--
-- Open loop: wrk 4.1 is closed-loop, so thread j of N sends its k-th request at the fixed
-- slot t0 + (k + j/N) * N / rate, waiting for it with delay(). A request's latency runs from
-- its slot, not from when it could be sent: a server that stalls is measured late for every
-- slot it made the thread miss (coordinated omission corrected), it cannot hide by being
-- sent less. delay() has millisecond resolution, so a request leaves up to ~1 ms after its
-- slot, and that counts in its latency. A slot that got no answer before wrk stopped is
-- counted as missed.

local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock_id, bench_timespec *tp);
]])
local CLOCK_MONOTONIC = 1
local timespec = ffi.new("bench_timespec")

local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
  return tonumber(timespec.tv_sec) * 1000 + tonumber(timespec.tv_nsec) / 1e6
end

local QUERIES = {
  hello = "{ hello }",
  me = "{ me { role citizen { id name idNumber phone realNameLevel } } }",
  peer_mycity = "{ me { citizen { id name idNumber phone realNameLevel } } }",
  peer_me = "{ me { id name idNumber phone realNameLevel } }", -- PostGraphile's, the route's
  write = "mutation($a: String!) { changeContact(input: {address: $a}) "
    .. "{ citizen { address version } userErrors { code message } } }",
  verify = "mutation($p: String!) { verifyPresentation(input: {payload: $p, "
    .. [[purpose: \"guest check-in at the front desk\"}) ]]
    .. "{ valid reason fields { name value } userErrors { code } } }",
  scan = "mutation($p: String!) { scanCityCode(input: {payload: $p, purpose: TRANSIT, "
    .. [[place: \"武陵阁站 3号闸机\"}) ]]
    .. "{ valid outcome allowed colour card cardNumber scanId userErrors { code } } }",
  charge = "mutation($p: String!, $k: String!) { chargeByCode(input: {payload: $p, "
    .. [[amountFen: 100, idempotencyKey: $k, description: \"压测商品\"}) ]]
    .. "{ payment { id status amountFen } userErrors { code } } }",
}
local name = os.getenv("BENCH_QUERY")
local query = QUERIES[name] or error("BENCH_QUERY must be one of the QUERIES above")
local supplied = name == "verify" or name == "scan" or name == "charge" -- carry a payload
local once = name == "verify" or name == "charge" -- each payload sent once
local success = name == "charge" and '"status"%s*:%s*"SUCCEEDED"' or '"valid"%s*:%s*true'
local tag = os.getenv("BENCH_TAG") or ""
local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
local start_ms = tonumber(os.getenv("BENCH_START_MS") or "200")
local rate = tonumber(os.getenv("BENCH_RATE") or "") -- nil: closed loop
local window = tonumber(os.getenv("BENCH_WINDOW_MS") or "")
local measure = rate or os.getenv("BENCH_LATENCIES") == "1"
local interval = rate and 1000 * nthreads / rate -- ms between one thread's slots

-- Main state: number the threads, give them one t0, keep them for done().

local threads = {}

function setup(thread)
  t0 = t0 or now_ms() + start_ms
  thread:set("id", #threads)
  thread:set("t0", t0)
  threads[#threads + 1] = thread
end

-- Each thread's state: its tokens, its requests, its counts (globals, for thread:get).

local tokens = {}
local payloads = {} -- verify: this thread's share of BENCH_PAYLOADS; scan: all of it
local headers = { ["Content-Type"] = "application/json" }
local counter = 0
local started -- when the request in flight was due (open loop) or sent

function init(_)
  local path = os.getenv("BENCH_TOKENS")
  if path and path ~= "" then
    for line in io.lines(path) do
      if line ~= "" then tokens[#tokens + 1] = line end
    end
  end
  local supply = os.getenv("BENCH_PAYLOADS")
  if supplied then
    if not supply or supply == "" then error(name .. " needs BENCH_PAYLOADS") end
    local n = 0
    for line in io.lines(supply) do
      if line ~= "" then
        if not once or n % nthreads == id then payloads[#payloads + 1] = line end
        n = n + 1
      end
    end
    if name == "scan" and #payloads == 0 then error("scan: BENCH_PAYLOADS is empty") end
  end
  math.randomseed(os.time() * 100 + id)
  responses, bad_status, graphql_errors, user_errors = 0, 0, 0, 0
  not_valid, exhausted = 0, 0
  latencies = {}
end

local function presentation()
  counter = counter + 1
  local payload = payloads[counter]
  if not payload then -- never send one twice: that is a cheaper REPLAYED answer
    exhausted = exhausted + 1
    wrk.thread:stop()
    payload = ""
  end
  return payload
end

local function city_code()
  -- thread j's k-th request sends line (j + k * N) mod #payloads: round robin, spread out
  local line = (id + counter * nthreads) % #payloads + 1
  counter = counter + 1
  return payloads[line]
end

local function body()
  if name == "verify" then
    return string.format('{"query": "%s", "variables": {"p": "%s"}}', query, presentation())
  end
  if name == "scan" then
    return string.format('{"query": "%s", "variables": {"p": "%s"}}', query, city_code())
  end
  if name == "charge" then
    local payload = presentation()
    local key = string.format("bench-%s-%d-%d", tag, id, counter)
    return string.format('{"query": "%s", "variables": {"p": "%s", "k": "%s"}}', query, payload, key)
  end
  if name ~= "write" then
    return string.format('{"query": "%s"}', query)
  end
  counter = counter + 1 -- a new address each time: an unchanged one records nothing
  local address = string.format("人民路%s-%d-%d号", tag, id, counter)
  return string.format('{"query": "%s", "variables": {"a": "%s"}}', query, address)
end

function request()
  if #tokens > 0 then
    headers["Authorization"] = "Bearer " .. tokens[math.random(#tokens)]
  end
  if not rate then started = now_ms() end
  return wrk.format("POST", nil, headers, body())
end

if rate then
  local k = 0
  function delay()
    local slot = (k + id / nthreads) * interval
    if slot >= window then return 3600 * 1000 end -- done sending; wrk stops this thread
    k = k + 1
    started = t0 + slot
    return math.max(0, math.ceil(started - now_ms()))
  end
end

function response(status, _, text)
  text = text or ""
  if measure then latencies[#latencies + 1] = now_ms() - started end
  responses = responses + 1
  local bad = true
  if status ~= 200 then
    bad_status = bad_status + 1
  elseif text:find('"errors"', 1, true) then
    graphql_errors = graphql_errors + 1
  elseif text:find('"userErrors"%s*:%s*%[%s*{') then
    user_errors = user_errors + 1
  elseif supplied and not text:find(success) then
    not_valid = not_valid + 1
  else
    bad = false
  end
  if bad and not sample then sample = status .. " " .. text:sub(1, 300) end
end

-- Main state again, after the run.

local function emit(key, value)
  io.write("BENCH ", key, " ", tostring(value), "\n")
end

local function percentile(sorted, p)
  return sorted[math.max(1, math.ceil(#sorted * p / 100))]
end

function done(summary, _, _)
  local counts = { responses = 0, bad_status = 0, graphql_errors = 0, user_errors = 0 }
  if supplied then counts.not_valid, counts.exhausted = 0, 0 end
  local all = {}
  local first_sample
  for _, thread in ipairs(threads) do
    for key in pairs(counts) do counts[key] = counts[key] + thread:get(key) end
    for _, ms in ipairs(thread:get("latencies")) do all[#all + 1] = ms end
    first_sample = first_sample or thread:get("sample")
  end
  for key, value in pairs(counts) do emit(key, value) end
  local errors = summary.errors
  emit("socket_errors", errors.connect + errors.read + errors.write + errors.timeout)
  if rate then
    local slots = 0 -- slots in the window, over all threads
    for j = 0, #threads - 1 do slots = slots + math.ceil(window / interval - j / nthreads) end
    emit("slots", slots)
    emit("seconds", window / 1000)
  else
    emit("seconds", summary.duration / 1e6)
  end
  if #all > 0 then
    table.sort(all)
    for _, p in ipairs({ 50, 90, 99 }) do emit("p" .. p .. "_ms", percentile(all, p)) end
    emit("max_ms", all[#all])
  end
  if first_sample then emit("sample", (first_sample:gsub("[\r\n]", " "))) end
end
