-- SPDX-License-Identifier: Apache-2.0
-- wrk: POSTs the file BODY to PATH on every request.
local f = io.open(os.getenv("BODY"), "rb")
local body = f:read("*a")
f:close()
wrk.method = "POST"
wrk.body = body
wrk.path = os.getenv("PREDICT_PATH")
wrk.headers["Content-Type"] = "application/json"
