-- wrk script for POST /api/v1/webhooks/whatsapp/{project}: cycles through
-- pre-signed status callbacks (bench/inbox.py statuses), so every request
-- carries a valid X-Hub-Signature-256 the server must check.
-- Usage: wrk ... -s bench/whatsapp_status.lua URL -- FILE
local reqs = {}
local n = 0

function init(args)
  local i = 0
  for line in io.lines(args[1]) do
    local tab = line:find("\t", 1, true)
    local headers = {["Content-Type"] = "application/json",
                     ["X-Hub-Signature-256"] = line:sub(1, tab - 1)}
    i = i + 1
    reqs[i] = wrk.format("POST", nil, headers, line:sub(tab + 1))
  end
  n = math.random(1, i)
end

function request()
  n = n % #reqs + 1
  return reqs[n]
end
-- wrk itself reports "Non-2xx or 3xx responses" when any answer was not 200.
