-- wrk script that mints authorization codes with GET /oauth/authorize (consent is remembered, so
-- each request answers 303 with a code). wrk rather than a script loop because codes live 60 s:
-- they must be minted fast, right before the exchange run. Environment:
--   MINT_PATH     /oauth/authorize?...&state=  (everything but the state and the challenge)
--   MINT_PAIRS    one S256 challenge a line; line i is minted with state=i
--   MINT_COOKIE   the signed-in session's Cookie header
--   MINT_OUT      per-thread output prefix: lines "state code" go to MINT_OUT.<tid>, and
--                 MINT_OUT.done.<tid> appears when the thread has sent all its requests
--   WRK_THREADS   wrk's -t
local nthreads = tonumber(os.getenv("WRK_THREADS") or "1")
local prefix = os.getenv("MINT_PATH")
wrk.method = "GET"
wrk.headers["Cookie"] = os.getenv("MINT_COOKIE")

function setup(thread)
  thread:set("tid", setup_n or 0)
  setup_n = (setup_n or 0) + 1
end

local todo, head, out, finished = {}, 1, nil, false
local verifying = false  -- thread 0's first request() is wrk checking the script: never sent

function init(args)
  local n = 0
  for line in io.lines(os.getenv("MINT_PAIRS")) do
    if n % nthreads == tid then table.insert(todo, { n, line }) end
    n = n + 1
  end
  out = assert(io.open(os.getenv("MINT_OUT") .. "." .. tid, "w"))
  out:setvbuf("line")  -- run.sh ends wrk with SIGINT, which never closes this file
  verifying = tid == 0
end

function request()
  local item = todo[head]
  if verifying and item then
    verifying = false
    return wrk.format(nil, prefix .. item[1] .. "&code_challenge=" .. item[2])
  end
  if not item then
    -- Everything asked for is sent. wrk runs to its full duration whatever the threads do, so
    -- leave a marker for run.sh, which then ends wrk; until then re-send the last request
    -- (extra codes are ignored) rather than stop the thread, which would drop answers in flight.
    if not finished then
      finished = true
      assert(io.open(os.getenv("MINT_OUT") .. ".done." .. tid, "w")):close()
    end
    item = todo[#todo]
  else
    head = head + 1
  end
  return wrk.format(nil, prefix .. item[1] .. "&code_challenge=" .. item[2])
end

function response(status, headers, body)
  local loc = headers["location"] or headers["Location"]
  if status == 303 and loc then
    local code, state = loc:match("[?&]code=([^&]+)"), loc:match("[?&]state=([^&]+)")
    if code and state then out:write(state, " ", code, "\n") end
  end
end
