-- wrk script of the full browser flow: a signed-in browser whose consent is remembered asks the
-- authorization endpoint for a code (a redirect straight back, no page), and the client exchanges
-- that code with its PKCE verifier at the token endpoint. Environment:
--   FLOW_AUTHORIZE  path and query of the authorization request, up to and including "state="
--                   (the script appends the state and the S256 challenge)
--   FLOW_TOKEN      path of the token endpoint
--   FLOW_COOKIE     the signed-in session's Cookie header
--   FLOW_AUTH       the client's Authorization header (HTTP Basic)
--   FLOW_REDIRECT   redirect_uri, form-encoded, sent with each exchange
--   FLOW_PAIRS      lines "verifier challenge": PKCE S256 pairs, reused round-robin. Each
--                   authorization request carries state=<line number>, so the exchange sends the
--                   verifier that matches the code's challenge whichever request it answers.
--   WRK_ADDRS, WRK_THREADS  as in load.lua (several nodes)
--   WRK_JSON        where done() writes the summary
-- wrk tells response() neither which connection nor which request it answers, so each thread
-- keeps a queue: an authorization answer puts its code there, and the next request() of any
-- connection of that thread exchanges the oldest queued code before asking for a new one.
-- Every answer is checked: an authorization answer must be a 302/303 whose Location carries a
-- code and a known state (a 200 page, e.g. a sign-in or consent form, is an error), and an
-- exchange answer must be a 200 carrying an access_token.

local authorize_prefix = os.getenv("FLOW_AUTHORIZE")
local token_path = os.getenv("FLOW_TOKEN")
local authorize_headers = { Cookie = os.getenv("FLOW_COOKIE"), Accept = "text/html" }
local token_headers = {
  Authorization = os.getenv("FLOW_AUTH"), Accept = "application/json",
  ["Content-Type"] = "application/x-www-form-urlencoded",
}
local redirect = os.getenv("FLOW_REDIRECT")
local addrs_env = os.getenv("WRK_ADDRS") or ""
local threads, addrs = {}, nil

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

-- Per-thread state; counters are globals so done() can read them with thread:get().
local verifiers, challenges, next_pair = {}, {}, 0
local queue, head, tail = {}, 1, 0
authorized, flows, bad_authorize, bad_exchange = 0, 0, 0, 0

function init(args)
  for line in io.lines(os.getenv("FLOW_PAIRS")) do
    local v, c = line:match("^(%S+) (%S+)$")
    if v then table.insert(verifiers, v); table.insert(challenges, c) end
  end
  assert(#verifiers > 0, "no PKCE pairs in FLOW_PAIRS")
end

function request()
  local item = queue[head]
  if item then
    queue[head] = nil
    head = head + 1
    return wrk.format("POST", token_path, token_headers, "grant_type=authorization_code&code=" ..
      item[1] .. "&redirect_uri=" .. redirect .. "&code_verifier=" .. verifiers[item[2]])
  end
  next_pair = next_pair % #verifiers + 1
  return wrk.format("GET", authorize_prefix .. next_pair .. "&code_challenge=" .. challenges[next_pair],
    authorize_headers)
end

function response(status, headers, body)
  local loc = headers["location"] or headers["Location"]
  if loc then
    -- The code stays form-encoded as the Location carried it, which is what the body needs.
    local code, state = loc:match("[?&]code=([^&#]+)"), tonumber(loc:match("[?&]state=(%d+)") or "")
    if (status == 302 or status == 303) and code and state and verifiers[state] then
      authorized = authorized + 1
      tail = tail + 1
      queue[tail] = { code, state }
    else
      bad_authorize = bad_authorize + 1
    end
  elseif status == 200 and body:find('"access_token"', 1, true) then
    flows = flows + 1
  elseif status == 200 and body:find("<", 1, true) then
    bad_authorize = bad_authorize + 1  -- a page where the redirect should be
  else
    bad_exchange = bad_exchange + 1
  end
end

function done(summary, latency, requests)
  local n = { authorized = 0, flows = 0, bad_authorize = 0, bad_exchange = 0 }
  for _, t in ipairs(threads) do
    for k in pairs(n) do n[k] = n[k] + (t:get(k) or 0) end
  end
  local f = assert(io.open(os.getenv("WRK_JSON"), "w"))
  f:write(string.format(
    '{"requests":%d,"duration_us":%d,"errors_status":%d,"errors_connect":%d,"errors_read":%d,' ..
    '"errors_write":%d,"errors_timeout":%d,"non2xx_counted":true,"non2xx":%d,"exhausted":0,' ..
    '"secrets_used":0,"flows":%d,"authorized":%d,"bad_authorize":%d,"bad_exchange":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"mean_us":%.1f,"max_us":%d}\n',
    summary.requests, summary.duration, summary.errors.status, summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.timeout,
    n.bad_authorize + n.bad_exchange, n.flows, n.authorized, n.bad_authorize, n.bad_exchange,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean,
    latency.max))
  f:close()
end
