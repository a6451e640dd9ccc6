"""Moods: face, text and fused analysis, the emotion → valence–arousal mapping, mood events and history."""
