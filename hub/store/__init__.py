"""The master store: source records, masters, links, quarantine, checkpoints, outbox."""
