"""TorchServe handlers. Every model follows `handlers.base.BaseHandler`'s lifecycle."""
