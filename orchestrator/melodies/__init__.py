"""Melodies: the request, the generation job and its queue, the worker pipeline and progress events."""
