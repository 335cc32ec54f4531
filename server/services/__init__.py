"""What the routes do, apart from HTTP: audit, access scope, accounts, booking."""
