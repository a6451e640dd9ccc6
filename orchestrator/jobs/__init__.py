"""Background generation jobs: a Redis-backed queue (saq), the worker process, and progress events."""
