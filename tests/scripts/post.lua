-- post.lua: a POST described only by top-level assignments to wrk.method, wrk.body and
-- wrk.headers (no request(), so the request is built once per thread and reused).
wrk.method = "POST"
wrk.body = '{"user":"volley","shots":[1,2,3]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Volley-Test"] = "post-top-level"
