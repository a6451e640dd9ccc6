"""Symbolic music shared by the melody handler, training, export scripts, the job worker and benchmarks.

Torch-free: melodies are integer event arrays on a 16th-note grid, as in Magenta's `note_seq`.
"""
