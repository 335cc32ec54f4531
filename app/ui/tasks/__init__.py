"""Tasks: the Tasks window, the task dialog and the controller that opens them."""
