"""The realtime hub: one WebSocket per desktop, told when changes are available."""
