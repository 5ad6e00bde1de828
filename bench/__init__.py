"""
`make bench`: what the cache buys, measured side by side against real MariaDB and Redis.

Results go to bench-results/ (git-ignored): results.json, latency.svg, and the table that
is also printed. Ratios are computed within one run, since this machine is shared and noisy.
"""
