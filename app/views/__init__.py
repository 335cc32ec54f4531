"""Qt item models and proxies that present the store to the views."""
