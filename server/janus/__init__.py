"""Janus Gateway, the SFU of group calls: its configuration, its API client and the rooms."""
