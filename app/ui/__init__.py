"""The desktop's widgets, windows and dialogs, one package per feature."""
