"""The HTTP service: the library behind a small JSON API and the web interview."""
