"""The TorchServe .mar archive: open one without TorchServe, its naming rule and batching settings; build one."""
