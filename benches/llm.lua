-- wrk script: POST /api/v1/llm with a new message each time (every request misses the cache).
local counter = 0
request = function()
  counter = counter + 1
  local body = '{"message":"how do I reset my password ' .. counter .. '"}'
  return wrk.format("POST", "/api/v1/llm", { ["Content-Type"] = "application/json" }, body)
end
