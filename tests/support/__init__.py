"""Helpers the tests share: stacks, an API client, test images, a tiny text model."""
