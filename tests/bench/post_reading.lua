-- post_reading.lua -- wrk script: every request is POST /data with one seed-format reading (no ts: the edge stamps it).
wrk.method = "POST"
wrk.path = "/data"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"type":"temp","value":21.5,"sensor_id":7}'
