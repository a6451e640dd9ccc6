"""Network definitions: each defined once, imported by handlers, training and export scripts."""
