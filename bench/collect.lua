-- wrk script for POST /api/v1/collect: every request carries `batch` fresh
-- messages with unique ids (so nothing is deduplicated), spread over visitors.
-- Usage: wrk ... -s bench/collect.lua URL -- WRITE_KEY BATCH [DELAY_MS]
local key, batch, delay_ms
local counter = 0
local thread_id = 0

function setup(thread)
  thread:set("tid", thread_id)
  thread_id = thread_id + 1
end

local function uuid()
  local t = {}
  for i = 1, 16 do t[i] = math.random(0, 255) end
  t[7] = (t[7] % 16) + 64
  t[9] = (t[9] % 64) + 128
  return string.format("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", unpack(t))
end

function init(args)
  key = args[1]
  batch = tonumber(args[2] or "1")
  delay_ms = tonumber(args[3] or "0")
  math.randomseed(os.time() + (tid or 0) * 7919)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "text/plain"
  wrk.headers["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
end

function request()
  local parts = {}
  for i = 1, batch do
    counter = counter + 1
    local visitor = math.random(1, 5000)
    local kind = (i % 5 == 0) and '"event","name":"signup_click","props":{"plan":"pro"}' or '"pageview"'
    parts[i] = string.format(
      '{"type":%s,"id":"%s","anonymous_id":"v%d","session_id":"s%d","url":"https://shop.example/p/%d","title":"Page"}',
      kind, uuid(), visitor, visitor, counter % 50)
  end
  return wrk.format(nil, nil, nil, '{"key":"' .. key .. '","batch":[' .. table.concat(parts, ",") .. ']}')
end

function delay()
  return delay_ms
end

function response(status, headers, body)
  if status ~= 202 then
    io.stderr:write("unexpected status " .. status .. ": " .. body .. "\n")
  end
end
