-- summary.lua: done() prints the figures wrk gives a script, one "done: key=value ..." line
-- per group, for the test to compare with the results file.
function done(summary, latency, requests)
    local e = summary.errors
    print(string.format("done: requests=%.0f duration_us=%.0f bytes=%.0f", summary.requests,
        summary.duration, summary.bytes))
    print(string.format("done: connect=%.0f read=%.0f write=%.0f status=%.0f timeout=%.0f",
        e.connect, e.read, e.write, e.status, e.timeout))
    print(string.format("done: lat_min=%.0f lat_max=%.0f lat_mean=%.3f lat_stdev=%.3f", latency.min,
        latency.max, latency.mean, latency.stdev))
    print(string.format("done: lat_p50=%.0f lat_p99=%.0f", latency:percentile(50),
        latency:percentile(99)))
    local v1, n1 = latency(1)
    print(string.format("done: lat_call1=%s lat_call1_count=%s lat_index1=%s lat_call2=%s",
        tostring(v1), tostring(n1), tostring(latency[1]), tostring((latency(2)))))
    print(string.format("done: req_min=%.3f req_max=%.3f req_mean=%.3f req_p50=%.3f",
        requests.min, requests.max, requests.mean, requests:percentile(50)))
end
