"""The TorchServe .mar archive: open one without TorchServe, its naming rule and batching settings; build one;
which are served (config/models.yaml) and the TorchServe lines rendered from that."""
