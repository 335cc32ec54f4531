"""Thin QObject adapters over the Qt-free services: what widgets call and the signals they hear."""
