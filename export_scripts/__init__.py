"""Scripts that turn trained weights into TorchServe model archives (`model_store/*.mar`)."""
