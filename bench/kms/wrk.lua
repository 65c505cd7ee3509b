-- SPDX-License-Identifier: Apache-2.0
-- wrk: POSTs the bodies of the file BODIES (one a line) to PATH in turn, each once.
local bodies, i = {}, 0
local path = os.getenv("KMS_PATH")
for line in io.lines(os.getenv("BODIES")) do bodies[#bodies + 1] = line end
request = function()
  i = i + 1
  if i > #bodies then i = 1 end -- reused bodies are refused (replays): size the file to the run
  return wrk.format("POST", path, {["Content-Type"] = "application/json"}, bodies[i])
end
