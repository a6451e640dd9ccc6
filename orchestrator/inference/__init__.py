"""One inference client, two backends: TorchServe over HTTP, or the same handlers in-process."""
