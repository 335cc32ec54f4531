"""The group call window: a gallery of tiles, the participant list, the controls."""
