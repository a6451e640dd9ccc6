"""Speed and quality figures, printed with ratios against the peer in one run (never timed unit tests)."""
