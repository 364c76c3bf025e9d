-- wrk script for every scenario. Environment:
--   WRK_METHOD, WRK_BODY, WRK_AUTH, WRK_CTYPE  the request (static mode)
--   WRK_MODE     static | codes | refresh
--   WRK_FILE     codes: lines "code verifier"; refresh: one refresh token a line
--   WRK_REDIRECT redirect_uri sent with each code exchange
--   WRK_THREADS  wrk's -t (threads pick their share of WRK_FILE by line number)
--   WRK_STRICT   1 = look at every status in static mode too (costs wrk CPU); otherwise static
--                scenarios rely on wrk's own count of statuses >399
--   WRK_JSON     where done() writes the summary
--   WRK_ADDRS    host:port,host:port,... several nodes: thread i sends all its requests to node
--                i mod n (wrk fixes a thread's address in setup(), not per request), so with
--                threads a multiple of the nodes each node gets the same share of connections
-- Single-use secrets: each code is sent once; each refresh token once, and the new token from
-- its response joins the thread's pool (chained rotation), so 1 token per connection suffices.

local mode = os.getenv("WRK_MODE") or "static"
local strict = os.getenv("WRK_STRICT") == "1"
local nthreads = tonumber(os.getenv("WRK_THREADS") or "1")
local threads = {}

wrk.method = os.getenv("WRK_METHOD") or "GET"
wrk.body = os.getenv("WRK_BODY")
if wrk.body == "" then wrk.body = nil end
wrk.headers["Accept"] = "application/json"
local auth = os.getenv("WRK_AUTH") or ""
if auth ~= "" then wrk.headers["Authorization"] = auth end
if wrk.body or mode ~= "static" then
  wrk.headers["Content-Type"] = os.getenv("WRK_CTYPE") or "application/x-www-form-urlencoded"
end

local addrs_env = os.getenv("WRK_ADDRS") or ""
local addrs = nil

function setup(thread)
  thread:set("tid", #threads)
  if addrs_env ~= "" then
    if not addrs then
      addrs = {}
      for host, port in addrs_env:gmatch("([^,:]+):(%d+)") do
        local addr = wrk.lookup(host, port)[1]
        if not addr then error("cannot resolve " .. host) end
        table.insert(addrs, addr)
      end
    end
    thread.addr = addrs[#threads % #addrs + 1]
  end
  table.insert(threads, thread)
end

-- Per-thread state (each wrk thread has its own Lua state). Counters are globals so done()
-- can read them with thread:get().
local pool, head, tail = {}, 1, 0
-- wrk calls request() once in thread 0 right after init() to check the script, and never sends
-- that request: answer it without spending a secret.
local verifying = false
non2xx, exhausted, used = 0, 0, 0
local redirect = os.getenv("WRK_REDIRECT") or ""

local function urlencode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

function init(args)
  if mode == "static" then return end
  local n = 0
  for line in io.lines(os.getenv("WRK_FILE")) do
    if n % nthreads == tid and line ~= "" then tail = tail + 1; pool[tail] = line end
    n = n + 1
  end
  redirect = urlencode(redirect)
  verifying = tid == 0
end

local function spent()
  -- Out of single-use secrets. Stopping the thread would drop its in-flight responses, and wrk
  -- divides by the full duration anyway: send cheap fillers instead and flag the row.
  exhausted = exhausted + 1
  return wrk.format("GET", "/livez")
end

if mode == "codes" then
  request = function()
    local line = pool[head]
    if not line then return spent() end
    if verifying then verifying = false; return wrk.format() end
    head = head + 1
    used = used + 1
    local code, verifier = line:match("^(%S+) (%S+)$")
    return wrk.format(nil, nil, nil, "grant_type=authorization_code&code=" .. urlencode(code) ..
      "&redirect_uri=" .. redirect .. "&code_verifier=" .. verifier)
  end
elseif mode == "refresh" then
  request = function()
    local token = pool[head]
    if not token then return spent() end
    if verifying then verifying = false; return wrk.format() end
    pool[head] = nil
    head = head + 1
    used = used + 1
    return wrk.format(nil, nil, nil, "grant_type=refresh_token&refresh_token=" .. urlencode(token))
  end
end

if mode ~= "static" or strict then
  response = function(status, headers, body)
    if status < 200 or status > 299 then non2xx = non2xx + 1 end
    if mode == "refresh" and status == 200 then
      local token = body:match('"refresh_token"%s*:%s*"([^"]+)"')
      if token then tail = tail + 1; pool[tail] = token end
    end
  end
end

function done(summary, latency, requests)
  local counted, bad, out, use = strict or mode ~= "static", 0, 0, 0
  for _, t in ipairs(threads) do
    bad = bad + (t:get("non2xx") or 0)
    out = out + (t:get("exhausted") or 0)
    use = use + (t:get("used") or 0)
  end
  local f = assert(io.open(os.getenv("WRK_JSON"), "w"))
  f:write(string.format(
    '{"requests":%d,"duration_us":%d,"errors_status":%d,"errors_connect":%d,"errors_read":%d,' ..
    '"errors_write":%d,"errors_timeout":%d,"non2xx_counted":%s,"non2xx":%d,"exhausted":%d,' ..
    '"secrets_used":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"mean_us":%.1f,"max_us":%d}\n',
    summary.requests, summary.duration, summary.errors.status, summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.timeout, tostring(counted), bad, out,
    use, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean,
    latency.max))
  f:close()
end
