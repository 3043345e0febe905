-- Sends each request with the next token from the file given as the script's argument
-- (wrk ... -s rotate.lua URL -- tokens.txt), then reports like report.lua.
local tokens = {}
local i = 0

init = function(args)
  for line in io.lines(args[1]) do
    tokens[#tokens + 1] = line
  end
end

request = function()
  i = i % #tokens + 1
  return wrk.format(nil, nil, { ["Authorization"] = "Bearer " .. tokens[i] })
end

-- The same report as report.lua (bench-run runs wrk from the repository root).
dofile("bench/report.lua")
