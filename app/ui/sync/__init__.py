"""The sync as the user sees it: status bar, sign-in/out and the Needs attention dialog."""
