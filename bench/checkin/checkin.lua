-- wrk script: POST /v1/agent/checkin round-robin over enrolled endpoints.
-- Arguments: a file of "endpoint_id token" lines (written by enroll.py);
-- optionally the stamp of the "default" flag environment, which each
-- check-in then carries as an agent with flags_environment = default does
-- (the answer: the stamp alone, the set being unchanged).
-- Each wrk thread starts at a different offset so threads do not move in
-- lock-step over the same endpoints.

local counter = 1
local threads = {}

function setup(thread)
   thread:set("tid", counter)
   table.insert(threads, thread)
   counter = counter + 1
end

local reqs = {}
local n = 0
local i = 0

function init(args)
   flags = ""
   if args[2] then
      flags = ',"flags":{"environment":"default","stamp":"' .. args[2] .. '"}'
   end
   for line in io.lines(args[1]) do
      local id, tok = line:match("^(%S+)%s+(%S+)$")
      if id then
         n = n + 1
         local body = '{"endpoint_id":"' .. id .. '","installed":{},"events":[]' ..
            flags .. '}'
         reqs[n] = wrk.format("POST", "/v1/agent/checkin",
            {["Authorization"] = "Bearer " .. tok,
             ["Content-Type"] = "application/json"}, body)
      end
   end
   i = (tid * 7919) % n
end

function request()
   i = i % n + 1
   return reqs[i]
end

-- No response() callback: wrk would hand every response's headers and
-- body to Lua, client work the nginx run does not have. run.sh fails the
-- run on any non-2xx answer (wrk counts them without Lua).
