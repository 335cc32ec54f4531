"""The machine-wide policy IT controls (registry, managed preferences, /etc) and its precedence."""
