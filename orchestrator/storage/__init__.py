"""Persistence: MongoDB (pymongo async), owned collections, ids, the S3 object store, Redis."""
