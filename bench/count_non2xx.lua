-- wrk script for bench/node.py: counts non-2xx answers per thread (wrk's own counter
-- only sees status > 399) and prints one machine-readable line with every figure.
local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   non2xx = 0
end

function response(status, headers, body)
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
   end
end

function done(summary, latency, requests)
   local n = 0
   for _, thread in ipairs(threads) do
      n = n + thread:get("non2xx")
   end
   local e = summary.errors
   io.write(string.format(
      'PYSCALE_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,'
      .. '"write":%d,"status":%d,"timeout":%d,"non2xx":%d,"p50_us":%d,"p99_us":%d,"max_us":%d}\n',
      summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
      e.timeout, n, latency:percentile(50), latency:percentile(99), latency.max))
end
