"""What every part of the orchestrator shares: settings, domain errors, logging, metrics, tokens."""
