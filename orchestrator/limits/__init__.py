"""Request rate limits: the limiter (counted in Redis) and the ASGI middleware in front of every route."""
