"""Starts the stack's processes (Mongo-wire server, TorchServe, orchestrator) on free loopback ports,
waits until each is ready, and stops all of them on exit, Ctrl-C or a failed test."""
