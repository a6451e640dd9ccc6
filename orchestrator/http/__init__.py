"""HTTP plumbing every feature shares: bodies, error handlers, OpenAPI helpers, body limits, security headers."""
