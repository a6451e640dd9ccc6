"""Persistence: MongoDB through pymongo's asyncio client."""
