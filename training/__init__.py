"""Training and evaluation of the networks in `networks/` (data: ../shared/datasets, never copied)."""
