"""Wire schemas only the server and its admin clients use (accounts, access, audit)."""
