"""The benchmark suite (not part of the test suite): a seeded data generator at national
scale, a runner that drives a real gunicorn server with wrk and a small asyncio driver, and
the figures the performance targets are checked against. See README.md, "Performance"."""
