"""The message bus: event topology, the outbox relay and consuming helpers."""
