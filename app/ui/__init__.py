"""Qt user-interface helpers shared by the views: icons and the like."""
