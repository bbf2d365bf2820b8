-- POST /api/v1/signature-requests with a fixed dossier and signer: each call creates a
-- new DRAFT request (one row per request, signer and document, plus an audit event).
-- Usage: wrk ... -s create_request.lua URL -- API_KEY DOSSIER_ID SIGNER_ID
-- No request() function: the request is static, built once per thread after init().
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

wrk.method = "POST"
wrk.path = "/api/v1/signature-requests"
wrk.headers["Content-Type"] = "application/json"

function init(args)
   local key, dossier_id, signer_id = args[1], args[2], args[3]
   wrk.headers["X-Api-Key"] = key
   wrk.body = string.format('{"dossier_id":"%s","signer_id":"%s"}', dossier_id, signer_id)
end

done = api_bench_report
